"""The connection every accounting query takes, and accounting's migrations."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import idempotency
from pg_migrations import Connection, apply_migrations, package_migrations

MIGRATIONS = package_migrations("accounting")  # src/accounting/migrations


@asynccontextmanager
async def idempotency_schema(app: FastAPI) -> AsyncIterator[None]:
    """Apply the idempotency lib's migrations before the first request.

    The lifespan of the credits router, which FastAPI runs inside the app's own (after it has
    migrated accounting's schema and opened the pool): the keys' table belongs to the lib, and
    this keeps it with the routes that use it. Under the same advisory lock as every migration.
    """
    await apply_migrations(app.state.settings.database_url, [idempotency.MIGRATIONS])
    yield


__all__ = ["MIGRATIONS", "Connection", "idempotency_schema"]
