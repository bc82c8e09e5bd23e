"""The connection every accounting query takes, and accounting's migrations."""

from pg_migrations import Connection, package_migrations

MIGRATIONS = package_migrations("accounting")  # src/accounting/migrations

__all__ = ["MIGRATIONS", "Connection"]
