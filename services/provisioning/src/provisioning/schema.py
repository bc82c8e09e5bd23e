from pathlib import Path

from pg_migrations import MigrationSource

MIGRATIONS = MigrationSource("provisioning", Path(__file__).parent / "migrations")
