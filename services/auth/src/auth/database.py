"""The connection every auth query runs on, and auth's migrations."""

from pg_migrations import Connection, package_migrations

MIGRATIONS = package_migrations("auth")  # src/auth/migrations

__all__ = ["MIGRATIONS", "Connection"]
