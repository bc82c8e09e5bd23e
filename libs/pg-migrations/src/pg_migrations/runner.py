import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

# Any fixed 64-bit number works; it only has to be the same for every replica.
ADVISORY_LOCK_KEY = 0x6D6967726174696F  # "migratio"
FILE_PATTERN = re.compile(r"^(\d+)_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    source: str
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationSource:
    """A named folder of numbered SQL files, e.g. a service's own or a library's."""

    name: str
    directory: Path

    def migrations(self) -> list[Migration]:
        found: dict[int, Migration] = {}
        for path in sorted(self.directory.glob("*.sql")):
            match = FILE_PATTERN.match(path.name)
            if not match:
                raise MigrationError(f"{path}: migration files are named NNN_description.sql")
            version = int(match.group(1))
            if version in found:
                raise MigrationError(f"{self.name}: two migrations numbered {version}")
            found[version] = Migration(self.name, version, match.group(2), path.read_text())
        return [found[v] for v in sorted(found)]


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    source      text        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, version)
)
"""


async def apply_migrations(dsn: str, sources: list[MigrationSource]) -> list[Migration]:
    """Apply every pending migration of ``sources`` in order; returns what was applied."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        try:
            await conn.execute(_CREATE_LEDGER)
            return [m for source in sources for m in await _apply_source(conn, source)]
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()


async def _apply_source(conn: asyncpg.Connection, source: MigrationSource) -> list[Migration]:
    rows = await conn.fetch("SELECT version FROM schema_migrations WHERE source = $1", source.name)
    done = {row["version"] for row in rows}
    applied = []
    for migration in source.migrations():
        if migration.version in done:
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (source, version, name) VALUES ($1, $2, $3)",
                migration.source,
                migration.version,
                migration.name,
            )
        log.info(
            "applied migration",
            extra={
                "source": migration.source,
                "version": migration.version,
                "migration": migration.name,
            },
        )
        applied.append(migration)
    return applied
