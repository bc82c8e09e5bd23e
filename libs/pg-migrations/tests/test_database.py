"""A service's migrations declared by package, and the pool it opens once they are applied."""

from pathlib import Path

import event_bus
from pg_migrations import MigrationSource, migrated_pool, package_migrations


def test_a_package_declares_the_migrations_folder_it_ships():
    source = package_migrations("event_bus")
    assert source.name == "event_bus"
    assert source.directory == Path(event_bus.__file__).parent / "migrations"
    assert [m.version for m in source.migrations()]  # the outbox and inbox tables


async def test_the_pool_opens_on_a_migrated_database(postgres_databases, tmp_path):
    dsn = postgres_databases.create("pool")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_create.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    pool = await migrated_pool(dsn, [MigrationSource("svc", folder)], connect_timeout=2, max_size=3)
    try:
        assert await pool.fetchval("SELECT count(*) FROM things") == 0
        assert pool.get_max_size() == 3
    finally:
        await pool.close()
