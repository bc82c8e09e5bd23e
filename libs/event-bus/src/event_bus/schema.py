"""The SQL tables of the outbox and the inbox, as a pg_migrations source.

A service applies them with its own: ``apply_migrations(dsn, [event_bus.MIGRATIONS, own])``.
"""

from pg_migrations import package_migrations

MIGRATIONS = package_migrations("event_bus")
MIGRATIONS_DIR = MIGRATIONS.directory
