"""The SQL tables of the outbox and the inbox, as a pg_migrations source.

A service applies them with its own: ``apply_migrations(dsn, [event_bus.MIGRATIONS, own])``.
"""

from pathlib import Path

from pg_migrations import MigrationSource

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATIONS = MigrationSource("event_bus", MIGRATIONS_DIR)
