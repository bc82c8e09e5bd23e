import asyncio

import asyncpg
import pytest

from pg_migrations import MigrationError, MigrationSource, apply_migrations


def write(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def table_names(dsn):
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return {r["table_name"] for r in rows}
    finally:
        await conn.close()


async def test_applies_in_number_order_once(postgres_databases, tmp_path):
    dsn = postgres_databases.create("migr")
    source = MigrationSource(
        "svc",
        write(
            tmp_path / "m",
            {
                "002_add_column.sql": "ALTER TABLE things ADD COLUMN label text;",
                "001_create.sql": "CREATE TABLE things (id int PRIMARY KEY);",
            },
        ),
    )
    first = await apply_migrations(dsn, [source])
    second = await apply_migrations(dsn, [source])
    assert [m.version for m in first] == [1, 2]
    assert second == []
    assert {"things", "schema_migrations"} <= await table_names(dsn)


async def test_concurrent_replicas_apply_each_migration_exactly_once(postgres_databases, tmp_path):
    dsn = postgres_databases.create("migr")
    # Not idempotent on purpose: a second run of this file would fail.
    source = MigrationSource(
        "svc", write(tmp_path / "m", {"001_create.sql": "CREATE TABLE once (id int);"})
    )
    results = await asyncio.gather(*(apply_migrations(dsn, [source]) for _ in range(6)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 0, 1]


async def test_sources_are_versioned_separately(postgres_databases, tmp_path):
    dsn = postgres_databases.create("migr")
    a = MigrationSource("a", write(tmp_path / "a", {"001_t.sql": "CREATE TABLE ta (id int);"}))
    b = MigrationSource("b", write(tmp_path / "b", {"001_t.sql": "CREATE TABLE tb (id int);"}))
    applied = await apply_migrations(dsn, [a, b])
    assert [(m.source, m.version) for m in applied] == [("a", 1), ("b", 1)]


async def test_a_failing_migration_is_rolled_back_and_not_recorded(postgres_databases, tmp_path):
    dsn = postgres_databases.create("migr")
    source = MigrationSource(
        "svc",
        write(tmp_path / "m", {"001_bad.sql": "CREATE TABLE half (id int); SELECT * FROM nope;"}),
    )
    with pytest.raises(asyncpg.UndefinedTableError):
        await apply_migrations(dsn, [source])
    assert "half" not in await table_names(dsn)


def test_badly_named_files_are_refused(tmp_path):
    source = MigrationSource("svc", write(tmp_path / "m", {"create.sql": "SELECT 1;"}))
    with pytest.raises(MigrationError, match="NNN_description"):
        source.migrations()


async def test_applying_logs_at_info_level(postgres_databases, tmp_path, caplog):
    dsn = postgres_databases.create("migr")
    source = MigrationSource(
        "svc", write(tmp_path / "m", {"001_t.sql": "CREATE TABLE t (id int);"})
    )
    with caplog.at_level("INFO", logger="pg_migrations.runner"):
        await apply_migrations(dsn, [source])
    assert any(r.getMessage() == "applied migration" for r in caplog.records)
