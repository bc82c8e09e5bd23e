"""What every service that owns a PostgreSQL database does with it: declare its migrations the
same way, apply them, and open its pool; and the one connection type its repositories take."""

from importlib.resources import files
from pathlib import Path
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel, Field

from pg_migrations.runner import MigrationSource, apply_migrations

# A connection lent by the pool (every request and worker) or one opened on its own (a script,
# a test): the proxy forwards every call to the connection it wraps, but the stubs type the
# two apart.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


def package_migrations(package: str) -> MigrationSource:
    """The migrations a package ships in its own ``migrations/`` folder, named after it."""
    return MigrationSource(package, Path(str(files(package) / "migrations")))


class PostgresPoolSettings(BaseModel):
    """Mix into the settings of a service that owns a database (DATABASE_CONNECT_TIMEOUT_SECONDS,
    DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE, DATABASE_POOL_IDLE_SECONDS)."""

    database_connect_timeout_seconds: float = Field(
        2.0, gt=0, description="A request waits at most this long for PostgreSQL, then is 503"
    )
    database_pool_min_size: int = Field(
        2, ge=0, le=1000, description="Connections the pool opens at start"
    )
    database_pool_max_size: int = Field(
        20,
        ge=1,
        le=1000,
        description="Connections the pool opens at most; every replica's count adds up against "
        "the server's max_connections",
    )
    database_pool_idle_seconds: float = Field(
        300.0, gt=0, description="A connection idle this long is closed (and reopened on demand)"
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """A released connection's reset that sends nothing. asyncpg still rolls back a
    transaction left open itself; its default reset query (unlock advisory locks, CLOSE ALL,
    UNLISTEN, RESET ALL) is one more round trip on every release."""


async def migrated_pool(
    dsn: str,
    sources: list[MigrationSource],
    settings: PostgresPoolSettings,
    *,
    session_state: bool = True,
) -> asyncpg.Pool:
    """Apply every pending migration of ``sources`` (under the advisory lock, so replicas
    starting together apply each once), then open the service's pool. ``session_state=False``
    is for a service that leaves nothing in a session (no session-level advisory locks, no
    LISTEN, cursors only inside transactions, settings only transaction-local): its released
    connections then skip asyncpg's reset query (``keep_session``)."""
    await apply_migrations(dsn, sources)
    return await asyncpg.create_pool(
        dsn,
        min_size=min(settings.database_pool_min_size, settings.database_pool_max_size),
        max_size=settings.database_pool_max_size,
        max_inactive_connection_lifetime=settings.database_pool_idle_seconds,
        timeout=settings.database_connect_timeout_seconds,
        reset=None if session_state else keep_session,  # None: asyncpg's own reset
    )
