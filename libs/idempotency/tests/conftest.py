"""A small app whose one route does its work once per key, against real PostgreSQL."""

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import httpx
import pytest_asyncio
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import idempotency
from idempotency import IdempotencyKey, StoredResponse
from pg_migrations import MigrationSource, PostgresPoolSettings, migrated_pool
from service_kit import ApiError

_WORK = """
CREATE TABLE IF NOT EXISTS work (id serial PRIMARY KEY, caller text NOT NULL, item text NOT NULL)
"""


class Order(BaseModel):
    item: str
    slow: float = 0
    fail: bool = False


class Done(BaseModel):
    id: int
    item: str


def build_app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        body = {"code": exc.code, "message": exc.message}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.post("/orders", status_code=201, response_model=Done)
    async def order(
        body: Order, idempotent: IdempotencyKey, caller: Annotated[str, Header()]
    ) -> Done | Response:
        async with pool.acquire() as conn, conn.transaction():
            if idempotent is not None:
                kept = await idempotency.claim(conn, caller, idempotent)
                if kept is not None:
                    return kept.response(replayed=True)
            row_id = await conn.fetchval(
                "INSERT INTO work (caller, item) VALUES ($1, $2) RETURNING id", caller, body.item
            )
            if body.slow:
                await conn.execute("SELECT pg_sleep($1)", body.slow)
            if body.fail:
                raise ApiError(400, "refused", "refused")
            done = Done(id=row_id, item=body.item)
            if idempotent is None:
                return done
            stored = StoredResponse.json(201, done)
            await idempotency.record(conn, caller, idempotent, stored)
        return stored.response(replayed=False)

    return app


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pool(postgres_databases, tmp_path_factory) -> AsyncIterator[asyncpg.Pool]:
    folder = tmp_path_factory.mktemp("work")
    (folder / "001_work.sql").write_text(_WORK)
    dsn = postgres_databases.create("idempotency")
    sources = [idempotency.MIGRATIONS, MigrationSource("work", folder)]
    pool = await migrated_pool(
        dsn,
        sources,
        PostgresPoolSettings(database_connect_timeout_seconds=5, database_pool_max_size=6),
    )
    yield pool
    await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(pool) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(pool))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as c:
        yield c
