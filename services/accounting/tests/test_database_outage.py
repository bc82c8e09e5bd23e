"""PostgreSQL unreachable: requests answer 503 at once, a usage event waits (unacked) and is
applied once the database is back, never dead-lettered, and the hold sweeper carries on.

A second accounting app shares the test database through a TCP proxy that the tests cut, so
the outage is real for it and for nothing else."""

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from accounting.config import AccountingSettings
from accounting.main import create_app
from accounting.reservations.service import HoldSweeper
from event_bus import dead_letter_queue
from event_bus.envelope import encode_event
from infra_fixtures.flaky_pool import FailingPool
from infra_fixtures.proxy import TcpProxy

from .conftest import balance, bearer, eventually, funded_user
from .usage.test_usage_events import hold, settled, usage_event


@dataclass
class Proxied:
    app: FastAPI
    proxy: TcpProxy
    settings: AccountingSettings
    client: httpx.AsyncClient


@pytest_asyncio.fixture(loop_scope="session")
async def proxied(accounting_settings, bus_namespace, app) -> AsyncIterator[Proxied]:
    target = urlsplit(accounting_settings.database_url)
    async with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        suffix = uuid.uuid4().hex[:8]
        settings = accounting_settings.model_copy(
            update={
                "database_url": target._replace(
                    netloc=f"{target.username}@127.0.0.1:{proxy.port}"
                ).geturl(),
                "usage_recorded_queue": bus_namespace.queue_name(f"outage-usage.{suffix}"),
                "user_registered_queue": bus_namespace.queue_name(f"outage-users.{suffix}"),
            }
        )
        application = create_app(settings)
        async with LifespanManager(application, startup_timeout=60):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                # Its consumers start in the background: wait for their queues to exist.
                await eventually(lambda: _ready(client), timeout=30)
                try:
                    yield Proxied(application, proxy, settings, client)
                finally:
                    await proxy.restore()


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/api/health/ready")).json().get("status") == "ready"


async def publish_to(rabbitmq_url: str, queue: str, event: dict) -> None:
    """Straight to one queue (the default exchange routes by queue name): only the proxied
    app's consumer gets it, not the session's accounting app."""
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(encode_event(event), message_id=event["eventId"], type=event["type"]),
            routing_key=queue,
        )


async def queue_count(rabbitmq_url: str, queue: str) -> int:
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def test_requests_answer_503_at_once_while_postgres_is_unreachable(
    client, auth, proxied, caplog
):
    user = await funded_user(client, auth, 10)
    assert (await balance(proxied.client, user))["totalCredits"] == 10
    await proxied.proxy.cut()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        during = await proxied.client.get("/api/credits/balance", headers=bearer(user["token"]))
    elapsed = time.monotonic() - started
    ready = await proxied.client.get("/api/health/ready")
    await proxied.proxy.restore()
    after = await proxied.client.get("/api/credits/balance", headers=bearer(user["token"]))

    assert during.status_code == 503, during.text
    assert during.json()["code"] == "database_unavailable"
    assert during.headers["retry-after"] == "3"
    assert elapsed < 2.5
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("service_kit")]
    assert ready.status_code == 503
    assert ready.json()["details"]["checks"]["postgres"] == "down"
    assert after.status_code == 200


async def test_a_usage_event_during_an_outage_is_applied_after_it_and_not_dead_lettered(
    client, auth, db, proxied, rabbitmq_url, caplog
):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    event = usage_event(user, streamingSessionId=held["streamingSessionId"])
    event_id = uuid.UUID(event["eventId"])
    queue = proxied.settings.usage_recorded_queue

    def retries() -> int:
        return sum(
            1
            for r in caplog.records
            if event["eventId"] in r.getMessage() and "failed transiently" in r.getMessage()
        )

    await proxied.proxy.cut()
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await publish_to(rabbitmq_url, queue, event)

        async def retried() -> bool:
            return retries() >= 2

        assert await eventually(retried), "the handler should have met the outage"
        assert await settled(db, event_id) == 0
        await proxied.proxy.restore()
        assert await eventually(lambda: settled(db, event_id)) == 1

    after = await balance(client, user)
    assert (after["totalCredits"], after["reservedCredits"]) == (9.15, 0)
    assert await queue_count(rabbitmq_url, dead_letter_queue(queue)) == 0
    assert await queue_count(rabbitmq_url, queue) == 0


async def test_the_hold_sweeper_survives_failures_that_are_not_postgres_errors(db):
    pool = FailingPool(db, failures=2)
    sweeper = HoldSweeper(pool, interval=0.01)  # type: ignore[arg-type]
    sweeper.start()
    try:

        async def swept_after_failing() -> bool:
            return pool.attempts > pool.failures + 1

        assert await eventually(swept_after_failing, timeout=5)
    finally:
        await sweeper.stop()


async def test_the_hold_sweeper_survives_an_unexpected_error(db, caplog):
    class Broken(FailingPool):
        def acquire(self):
            self.attempts += 1
            if self.attempts == 1:
                raise KeyError("a bug")
            return self.pool.acquire()

    pool = Broken(db, failures=1)
    sweeper = HoldSweeper(pool, interval=0.01)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="accounting"):
        sweeper.start()
        try:

            async def swept_again() -> bool:
                return pool.attempts >= 3

            assert await eventually(swept_again, timeout=5)
        finally:
            await sweeper.stop()
    [failure] = [r for r in caplog.records if "hold sweep failed" in r.getMessage()]
    assert failure.exc_info is not None  # a bug keeps its traceback
