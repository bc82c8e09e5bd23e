from pathlib import Path

from pg_migrations import MigrationSource

MIGRATIONS = MigrationSource("accounting", Path(__file__).parents[1] / "migrations")
