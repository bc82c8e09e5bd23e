"""A database or cache that cannot be reached answers 503 with Retry-After, never 500.

Each store is the real server behind a TCP proxy that is cut for the test (live connections
reset, new ones reset on arrival), so the exceptions are the ones the client libraries really
raise in an outage.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import redis.asyncio as redis
from fastapi import APIRouter, FastAPI, Request
from pymongo import AsyncMongoClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from infra_fixtures.proxy import TcpProxy
from service_kit import ServiceSettings, create_app, is_outage, log_failure, outage_code

router = APIRouter()


@router.get("/pg")
async def pg(request: Request) -> dict:
    return {"value": await request.app.state.pool.fetchval("SELECT 1")}


@router.get("/pg/held")
async def pg_held(request: Request) -> dict:
    """Holds a connection in a transaction across the cut the test makes meanwhile."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.fetchval("SELECT 1")
        request.app.state.holding.set()
        await request.app.state.cut_done.wait()
        return {"value": await conn.fetchval("SELECT 2")}


@router.get("/mongo")
async def mongo(request: Request) -> dict:
    await request.app.state.mongo.admin.command("ping")
    return {"ok": True}


@router.get("/redis")
async def cache(request: Request) -> dict:
    return {"ok": await request.app.state.redis.ping()}


@router.get("/file")
async def missing_file() -> dict:
    with open("/nonexistent/service-kit-test") as handle:  # noqa: ASYNC230
        return {"text": handle.read()}


@router.get("/own-connection-error")
async def own_connection_error() -> dict:
    raise ConnectionError("raised by the service's own code, not by a store")


@router.get("/busy")
async def busy(request: Request) -> dict:
    async with request.app.state.pool.acquire() as conn:
        first = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.2)"))
        await asyncio.sleep(0)  # the first query is under way
        try:
            return {"value": await conn.fetchval("SELECT 1")}  # a bug: InterfaceError
        finally:
            await first


def build() -> FastAPI:
    app = create_app(
        ServiceSettings(service_name="kit-outage"),
        title="kit",
        routers=[router],
        outage_responses=True,
    )
    app.state.holding = asyncio.Event()
    app.state.cut_done = asyncio.Event()
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://kit")


def through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials, _, _ = parts.netloc.rpartition("@")
    address = f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=f"{credentials}@{address}" if credentials else address).geturl()


def proxy_for(url: str, default_port: int) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or default_port)


@pytest.fixture
async def pg_app(postgres_url: str) -> AsyncIterator[tuple[FastAPI, TcpProxy]]:
    async with proxy_for(postgres_url, 5432) as proxy:
        app = build()
        app.state.pool = await asyncpg.create_pool(
            through(postgres_url, proxy), min_size=1, max_size=2, timeout=2
        )
        yield app, proxy
        await proxy.restore()
        await app.state.pool.close()


def assert_outage(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == code
    assert set(response.json()) == {"message", "code"}
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-request-id"]


async def test_postgres_cut_off_is_503_database_unavailable_then_200_again(pg_app, caplog):
    app, proxy = pg_app
    async with client_for(app) as client:
        assert (await client.get("/pg")).status_code == 200
        await proxy.cut()
        with caplog.at_level(logging.WARNING):
            during = [await client.get("/pg") for _ in range(3)]
        await proxy.restore()
        after = await client.get("/pg")

    for response in during:
        assert_outage(response, "database_unavailable")
    assert after.json() == {"value": 1}
    # (asyncpg's own pool maintenance logs its reconnection attempts: not ours to judge.)
    ours = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("service_kit")
    ]
    assert [r.getMessage() for r in ours] == ["answered 503 database_unavailable"] * 3
    assert all(r.exc_info is None for r in ours), "no stack trace for an outage"


async def test_a_connection_lost_mid_transaction_is_503(pg_app):
    app, proxy = pg_app
    async with client_for(app) as client:
        request = asyncio.create_task(client.get("/pg/held"))
        await asyncio.wait_for(app.state.holding.wait(), 5)
        await proxy.cut()
        app.state.cut_done.set()
        response = await request
    assert_outage(response, "database_unavailable")


async def test_postgres_refusing_connections_is_503(postgres_url):
    async with proxy_for(postgres_url, 5432) as proxy:
        url = through(postgres_url, proxy)
    # The proxy is gone: its port refuses connections, as a stopped server's does.
    app = build()
    app.state.pool = await asyncpg.create_pool(url, min_size=0, max_size=2, timeout=2)
    try:
        async with client_for(app) as client:
            response = await client.get("/pg")
    finally:
        await app.state.pool.close()
    assert_outage(response, "database_unavailable")


async def test_a_server_that_never_answers_is_503_after_the_connect_timeout():
    stalled: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter):
        stalled.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app = build()
    app.state.pool = await asyncpg.create_pool(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", min_size=0, max_size=2, timeout=0.5
    )
    try:
        async with client_for(app) as client:
            started = time.monotonic()
            response = await client.get("/pg")
            elapsed = time.monotonic() - started
    finally:
        await app.state.pool.close()
        for writer in stalled:
            writer.close()
        server.close()
        await server.wait_closed()
    assert_outage(response, "database_unavailable")
    assert elapsed < 2


async def test_mongodb_cut_off_is_503_database_unavailable(mongo_url):
    async with proxy_for(mongo_url, 27017) as proxy:
        app = build()
        app.state.mongo = AsyncMongoClient(
            through(mongo_url, proxy), serverSelectionTimeoutMS=300, directConnection=True
        )
        try:
            async with client_for(app) as client:
                assert (await client.get("/mongo")).status_code == 200
                await proxy.cut()
                response = await client.get("/mongo")
        finally:
            await app.state.mongo.close()
    assert_outage(response, "database_unavailable")


async def test_redis_cut_off_is_503_redis_unavailable(redis_url):
    async with proxy_for(redis_url, 6379) as proxy:
        app = build()
        app.state.redis = redis.Redis.from_url(
            through(redis_url, proxy), socket_connect_timeout=1, socket_timeout=1
        )
        try:
            async with client_for(app) as client:
                assert (await client.get("/redis")).status_code == 200
                await proxy.cut()
                response = await client.get("/redis")
        finally:
            await app.state.redis.aclose()
    assert_outage(response, "redis_unavailable")


@pytest.mark.parametrize("path", ["/file", "/own-connection-error"])
async def test_an_oserror_that_is_no_store_outage_stays_a_500(path):
    async with client_for(build()) as client:
        response = await client.get(path)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


async def test_an_asyncpg_interface_error_of_a_bug_stays_a_500(pg_app):
    app, _ = pg_app
    async with client_for(app) as client:
        response = await client.get("/busy")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation"),
            "database_unavailable",
        ),
        (
            asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
            "database_unavailable",
        ),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), "database_unavailable"),
        (asyncpg.exceptions.TooManyConnectionsError("too many clients"), "database_unavailable"),
        (
            asyncpg.InterfaceError("cannot perform operation: connection is closed"),
            "database_unavailable",
        ),
        (
            asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
            None,
        ),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), None),
        (ConnectionRefusedError(111, "refused, but not by asyncpg"), None),
        (RedisConnectionError("Connection refused"), "redis_unavailable"),
        (RedisTimeoutError("Timeout reading from socket"), "redis_unavailable"),
        (ValueError("a bug"), None),
    ],
)
def test_outage_code(error, code):
    assert outage_code(error) == code
    assert is_outage(error) == (code is not None)


def test_log_failure_is_one_line_for_an_outage_and_a_traceback_otherwise(caplog):
    log = logging.getLogger("kit-test.loop")
    with caplog.at_level(logging.WARNING, logger="kit-test.loop"):
        log_failure(log, "hold sweep", asyncpg.exceptions.ConnectionDoesNotExistError("gone"))
        log_failure(log, "hold sweep", KeyError("a bug"))
    outage, bug = caplog.records
    assert (outage.levelno, outage.exc_info) == (logging.WARNING, None)
    assert "hold sweep failed: database_unavailable" in outage.getMessage()
    assert bug.levelno == logging.ERROR
    assert bug.exc_info is not None


async def test_openapi_documents_the_outage_503_but_not_on_health():
    async with client_for(build()) as client:
        schema = (await client.get("/openapi.json")).json()
    documented = schema["paths"]["/pg"]["get"]["responses"]["503"]
    assert "Retry-After" in documented["headers"]
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "503" not in schema["paths"]["/api/health"]["get"]["responses"]
    plain = create_app(ServiceSettings(service_name="plain"), title="plain", routers=[router])
    async with client_for(plain) as client:
        schema = (await client.get("/openapi.json")).json()
    assert "503" not in schema["paths"]["/pg"]["get"]["responses"]
