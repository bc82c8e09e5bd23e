"""migrate_command: the body of each service's ``<name>-migrate`` script (deploy/k8s Jobs)."""

import asyncio

import asyncpg
import pytest

from pg_migrations import MigrationSource, migrate_command


def _source(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_create.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    (folder / "002_label.sql").write_text("ALTER TABLE things ADD COLUMN label text;")
    return MigrationSource("svc", folder)


async def _columns(dsn):
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'things'"
        )
        return {r["column_name"] for r in rows}
    finally:
        await conn.close()


def test_applies_what_is_pending_to_database_url_then_nothing(
    postgres_databases, tmp_path, monkeypatch, capsys
):
    dsn = postgres_databases.create("migrate_cmd")
    monkeypatch.setenv("DATABASE_URL", dsn)
    source = _source(tmp_path)

    migrate_command([source])
    assert "applied 2 migration(s): svc 001, svc 002" in capsys.readouterr().out
    assert asyncio.run(_columns(dsn)) == {"id", "label"}

    migrate_command([source])
    assert "applied 0 migration(s): none pending" in capsys.readouterr().out


@pytest.mark.parametrize("value", [None, "  "])
def test_refuses_without_database_url(monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", value)
    with pytest.raises(SystemExit, match="DATABASE_URL is not set"):
        migrate_command([_source(tmp_path)])


def test_a_failing_migration_exits_with_its_error_and_no_password(
    postgres_databases, tmp_path, monkeypatch
):
    dsn = postgres_databases.create("migrate_cmd_bad")
    monkeypatch.setenv("DATABASE_URL", dsn)
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "001_broken.sql").write_text("CREATE TABLE broken (;")
    with pytest.raises(SystemExit, match="migration failed") as exc:
        migrate_command([MigrationSource("bad", folder)])
    assert dsn not in str(exc.value)
