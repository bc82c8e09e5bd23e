"""An export streams: 10,000 rows leave in batches while the server-side cursor is still open,
with memory that does not grow with the rows; a client that goes away mid-stream gives its
connection back; a failure mid-stream never looks like a complete file; and at most
EXPORT_MAX_CONCURRENT exports stream at once.

The app is driven at the ASGI level (httpx's ASGI transport would gather the whole body
before answering), as uvicorn drives it."""

import asyncio
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from accounting.exports.repository import OfUser, export_query

from ..conftest import bearer, eventually, funded_user
from .usage import account_id_of

SIZES = (1_000, 10_000)
EXPORT_QUERY = "%FROM usage_records u JOIN accounts a%"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bulk(app, auth_url, db) -> dict[int, dict]:
    """For each size, a user with that many models used once each: as many rows by model.
    Charged through the ledger's own function, so the ledger still adds up."""
    users = {}
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://accounting") as client,
        httpx.AsyncClient(base_url=auth_url, timeout=30) as auth,
    ):
        for size in SIZES:
            user = await funded_user(client, auth, 100)
            await db.execute(
                "SELECT count(*) FROM generate_series(1, $3::int) i, LATERAL ledger_charge("
                "$1, 1001 + i, $2, 'chat', 'bulk', 'bulk-model-' || lpad(i::text, 5, '0'), "
                "i, 2 * i, NULL)",
                await account_id_of(db, user["id"]),
                user["id"],
                size,
            )
            users[size] = user
    return users


@dataclass
class Received:
    status: int | None = None
    chunks: int = 0
    size: int = 0
    lines: int = 0
    first: bytes = b""
    finished: bool = False
    media_type: str = ""
    rows_at_first_chunk: list[int] = field(default_factory=list)


OnBody = Callable[[Received], Awaitable[None]]


async def stream_export(
    app,
    token: str,
    query: str,
    *,
    on_body: OnBody | None = None,
    spec_version: str = "2.4",
    disconnect: asyncio.Event | None = None,
) -> Received:
    """One export through the app's ASGI interface, counting what it sends (and keeping
    none of it but the first chunk, so the test's memory stays out of the measure)."""
    received = Received()
    requested = False
    gone = disconnect or asyncio.Event()

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            received.status = message["status"]
            received.media_type = dict(message["headers"]).get(b"content-type", b"").decode()
            return
        body = message.get("body", b"")
        if body:
            received.chunks += 1
            received.size += len(body)
            received.lines += body.count(b"\n")
            if received.chunks == 1:
                received.first = body
            if on_body is not None:
                await on_body(received)
        if not message.get("more_body", False):
            received.finished = True

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/usage/export",
        "raw_path": b"/api/usage/export",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"accounting"),
            *((k.lower().encode(), v.encode()) for k, v in bearer(token).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("accounting", 80),
    }
    await app(scope, receive, send)
    return received


async def open_exports(db) -> int:
    """Exports whose transaction (and cursor) is open on the server right now."""
    open_now: int = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state IN ('idle in transaction', 'active') AND query LIKE $1 "
        "AND pid <> pg_backend_pid()",
        EXPORT_QUERY,
    )
    return open_now


def free_slots(app) -> int:
    return app.state.exports._slots._value


async def test_ten_thousand_rows_stream_in_batches_while_memory_stays_flat(
    app, bulk, db, accounting_settings
):
    batch = accounting_settings.export_batch_rows
    all_time = (datetime(2000, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))

    async def check_first_chunk(received: Received) -> None:
        if received.chunks == 1:
            received.rows_at_first_chunk.append(await open_exports(db))

    peaks, results = {}, {}
    tracemalloc.start()
    try:
        for size in SIZES:
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            results[size] = await stream_export(
                app, bulk[size]["token"], "groupBy=model", on_body=check_first_chunk
            )
            peaks[size] = tracemalloc.get_traced_memory()[1] - baseline
        # For scale: the rows alone, fetched at once as an export that did not stream would.
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        rows = await db.fetch(
            export_query(("model",), OfUser(bulk[10_000]["id"])), *all_time, bulk[10_000]["id"]
        )
        at_once = tracemalloc.get_traced_memory()[1] - baseline
        del rows
    finally:
        tracemalloc.stop()

    big = results[10_000]
    assert (big.status, big.media_type, big.finished) == (200, "text/csv; charset=utf-8", True)
    assert big.lines == 10_000 + 1  # and the header
    # The first rows left while the export's cursor was still open, a batch at a time.
    assert big.rows_at_first_chunk == [1]
    assert big.first.count(b"\n") == batch + 1
    assert big.chunks >= 10_000 // batch
    # Memory: what the export held at its peak does not grow with the rows (1,000 rows take
    # two batches, 10,000 twenty), and is a fraction of what the rows alone take at once.
    figures = f"peaks {peaks}, rows at once {at_once}, sent {big.size} B in {big.chunks} chunks"
    assert peaks[10_000] < 1.5 * peaks[1_000] + 200_000, figures
    assert peaks[10_000] < at_once / 2, figures


async def test_json_streams_the_same_rows(app, bulk, db):
    received = await stream_export(app, bulk[10_000]["token"], "groupBy=model&format=json")
    assert (received.status, received.media_type, received.finished) == (
        200,
        "application/json",
        True,
    )
    assert received.first.startswith(b"[\n{")
    assert received.lines == 10_000 + 2  # a row a line, then the closing bracket's line


@pytest.mark.parametrize(
    ("spec_version", "noticed"),
    [
        # ASGI 2.3 (uvicorn's): receive() says the client disconnected, and Starlette cancels
        # the response: while it sends a chunk, or while the next batch is being read.
        ("2.3", "while sending"),
        ("2.3", "while reading"),
        # ASGI 2.4: send() fails.
        ("2.4", "while sending"),
    ],
)
async def test_a_client_gone_mid_stream_gives_the_connection_back(
    app, bulk, db, spec_version, noticed
):
    gone = asyncio.Event()

    async def leave(received: Received) -> None:
        if received.chunks == 1:
            assert await open_exports(db) == 1
            gone.set()
            if noticed == "while sending":
                await asyncio.sleep(0.05)
        elif spec_version == "2.4":
            raise OSError("the client went away")

    try:
        received = await stream_export(
            app,
            bulk[10_000]["token"],
            "groupBy=model",
            on_body=leave,
            spec_version=spec_version,
            disconnect=gone,
        )
    except OSError:
        received = None
    assert received is None or not received.finished
    assert await eventually(lambda: _none_open(db), timeout=5)
    assert free_slots(app) == app.state.settings.export_max_concurrent


async def _none_open(db) -> bool:
    return await open_exports(db) == 0


async def test_a_failure_mid_stream_never_ends_the_body(app, bulk, db):
    async def kill_the_connection(received: Received) -> None:
        if received.chunks == 1:
            await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND state = 'idle in transaction' "
                "AND query LIKE $1",
                EXPORT_QUERY,
            )

    received = await stream_export(
        app, bulk[10_000]["token"], "groupBy=model", on_body=kill_the_connection
    )
    # The app returns without the body's last message: the server (uvicorn) then drops the
    # connection without the final chunk, and the client sees a broken transfer.
    assert (received.status, received.chunks, received.finished) == (200, 1, False)
    assert free_slots(app) == app.state.settings.export_max_concurrent


async def test_past_the_concurrent_limit_an_export_is_429_until_one_ends(
    app, client, bulk, accounting_settings
):
    limit = accounting_settings.export_max_concurrent
    release = asyncio.Event()
    started = asyncio.Semaphore(0)

    async def wait_for_release(received: Received) -> None:
        if received.chunks == 1:
            started.release()
            await release.wait()

    token = bulk[1_000]["token"]
    streams = [
        asyncio.create_task(stream_export(app, token, "groupBy=model", on_body=wait_for_release))
        for _ in range(limit)
    ]
    for _ in range(limit):
        await asyncio.wait_for(started.acquire(), 10)

    refused = await client.get("/api/usage/export", headers=bearer(token))
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_exports"
    assert refused.headers["Retry-After"] == "5"

    release.set()
    assert all(r.finished and r.lines == 1_001 for r in await asyncio.gather(*streams))
    again = await client.get("/api/usage/export", headers=bearer(token))
    assert again.status_code == 200
