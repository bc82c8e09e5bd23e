"""Numbered SQL migrations for asyncpg, applied under an advisory lock.

A migration source is a named folder of files called ``NNN_description.sql``. Each file runs
once, in its own transaction, in number order; what was applied is recorded per source in
``schema_migrations``. All replicas of a service may call :func:`apply_migrations` at start-up
at the same time: a PostgreSQL advisory lock lets one of them apply the files while the others
wait, and they then find nothing left to do.

A service declares its own with :func:`package_migrations` (the ``migrations/`` folder of its
package), opens its pool with :func:`migrated_pool`, and types its queries' connection as
:data:`Connection`. A service's ``<name>-migrate`` script (:func:`migrate_command`) applies them
without starting the service, for a deployment's one migration run per release.
"""

from pg_migrations.command import migrate_command
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
    "migrate_command",
    "migrated_pool",
    "package_migrations",
]
