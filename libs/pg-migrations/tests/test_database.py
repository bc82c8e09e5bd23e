"""A service's migrations declared by package, and the pool it opens once they are applied."""

import asyncio
from pathlib import Path

import asyncpg
import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

import event_bus
from pg_migrations import MigrationSource, PostgresPoolSettings, migrated_pool, package_migrations


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
    pool = await migrated_pool(
        dsn,
        [MigrationSource("svc", folder)],
        PostgresPoolSettings(database_connect_timeout_seconds=2, database_pool_max_size=3),
    )
    try:
        assert await pool.fetchval("SELECT count(*) FROM things") == 0
        assert pool.get_max_size() == 3
    finally:
        await pool.close()


async def test_the_pool_closes_connections_left_idle(postgres_databases, tmp_path):
    dsn = postgres_databases.create("idle")
    folder = tmp_path / "m"
    folder.mkdir()
    settings = PostgresPoolSettings(
        database_pool_min_size=0, database_pool_max_size=4, database_pool_idle_seconds=0.3
    )
    pool = await migrated_pool(dsn, [MigrationSource("svc", folder)], settings)
    database = dsn.rsplit("/", 1)[1]
    count = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
    try:
        async with pool.acquire() as a, pool.acquire() as b, pool.acquire() as c:
            assert await a.fetchval(count, database) == 3
            assert await b.fetchval("SELECT 1") == await c.fetchval("SELECT 1")
        observer = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
        try:
            for _ in range(50):
                if await observer.fetchval(count, database) == 0:
                    break
                await asyncio.sleep(0.1)
            assert await observer.fetchval(count, database) == 0
        finally:
            await observer.close()
        assert await pool.fetchval("SELECT 1") == 1  # reopened on demand
    finally:
        await pool.close()


def test_pool_sizes_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "7")

    class Settings(PostgresPoolSettings, BaseSettings):
        pass

    assert Settings().database_pool_max_size == 7
    with pytest.raises(ValidationError):
        PostgresPoolSettings(database_pool_max_size=0)
