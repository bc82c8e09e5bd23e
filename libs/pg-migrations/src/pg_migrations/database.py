"""What every service that owns a PostgreSQL database does with it: declare its migrations the
same way, apply them, and open its pool; and the one connection type its repositories take."""

from importlib.resources import files
from pathlib import Path
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from pg_migrations.runner import MigrationSource, apply_migrations

# A connection lent by the pool (every request and worker) or one opened on its own (a script,
# a test): the proxy forwards every call to the connection it wraps, but the stubs type the
# two apart.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


def package_migrations(package: str) -> MigrationSource:
    """The migrations a package ships in its own ``migrations/`` folder, named after it."""
    return MigrationSource(package, Path(str(files(package) / "migrations")))


async def migrated_pool(
    dsn: str,
    sources: list[MigrationSource],
    *,
    connect_timeout: float,
    min_size: int = 2,
    max_size: int = 20,
) -> asyncpg.Pool:
    """Apply every pending migration of ``sources`` (under the advisory lock, so replicas
    starting together apply each once), then open the service's pool."""
    await apply_migrations(dsn, sources)
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, timeout=connect_timeout
    )
