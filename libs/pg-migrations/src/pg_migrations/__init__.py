"""Numbered SQL migrations for asyncpg, applied under an advisory lock.

A migration source is a named folder of files called ``NNN_description.sql``. Each file runs
once, in its own transaction, in number order; what was applied is recorded per source in
``schema_migrations``. All replicas of a service may call :func:`apply_migrations` at start-up
at the same time: a PostgreSQL advisory lock lets one of them apply the files while the others
wait, and they then find nothing left to do.

A service declares its own with :func:`package_migrations` (the ``migrations/`` folder of its
package), opens its pool with :func:`migrated_pool`, and types its queries' connection as
:data:`Connection`.
"""

from pg_migrations.database import (
    Connection,
    PostgresPoolSettings,
    migrated_pool,
    package_migrations,
)
from pg_migrations.runner import Migration, MigrationError, MigrationSource, apply_migrations

__all__ = [
    "Connection",
    "Migration",
    "MigrationError",
    "MigrationSource",
    "PostgresPoolSettings",
    "apply_migrations",
    "migrated_pool",
    "package_migrations",
]
