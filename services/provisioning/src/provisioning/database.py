"""The connection provisioning's queries run on, and provisioning's migrations."""

from pg_migrations import Connection, package_migrations

MIGRATIONS = package_migrations("provisioning")  # src/provisioning/migrations

__all__ = ["MIGRATIONS", "Connection"]
