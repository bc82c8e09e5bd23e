import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractQueue

from event_bus import MIGRATIONS, EventConsumer, EventPublisher
from infra_fixtures.plugin import BusNamespace, PostgresDatabases, run_async
from infra_fixtures.proxy import TcpProxy
from pg_migrations import apply_migrations

# Test modules cannot import this file (pytest runs with --import-mode=importlib), so the
# helpers below are also handed out as fixtures.
DEADLINE = 5.0
FAST = {"connect_timeout": 2.0, "reconnect_interval": 0.1}


async def _eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float = DEADLINE,
    what: str = "condition",
) -> None:
    """Poll ``check`` until it holds, failing the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def _unique_type(label: str) -> str:
    return f"test.{label}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """``await eventually(check, what=...)``: poll until ``check()`` holds, else fail."""
    return _eventually


@pytest.fixture
def unique_type() -> Callable[[str], str]:
    """An event type (routing key) no other test publishes."""
    return _unique_type


@pytest.fixture
def fast() -> dict[str, float]:
    """Connection options that make reconnecting quick enough for tests."""
    return dict(FAST)


@pytest.fixture
def exchange(bus_namespace: BusNamespace) -> str:
    return bus_namespace.exchange


@pytest.fixture
def queue_name(bus_namespace: BusNamespace) -> Callable[[str], str]:
    return lambda base: bus_namespace.queue_name(f"{base}.{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def amqp(rabbitmq_url: str) -> AsyncIterator[AbstractConnection]:
    """A plain connection for the test itself: raw publishing and inspecting queues.

    Not a robust one: a robust channel answers a passive declare of a queue it already knows
    from its cache, so message counts would never change.
    """
    connection = await aio_pika.connect(rabbitmq_url, timeout=DEADLINE)
    yield connection
    await connection.close()


@pytest.fixture
async def channel(amqp: AbstractConnection) -> AbstractChannel:
    return await amqp.channel()


class Tap:
    """A queue bound to routing keys on the test exchange, to see exactly what was published."""

    def __init__(self, channel: AbstractChannel, queue: AbstractQueue) -> None:
        self.channel = channel
        self.queue = queue

    async def count(self) -> int:
        declared = await self.channel.declare_queue(self.queue.name, passive=True)
        return declared.declaration_result.message_count or 0

    async def drain(self) -> list[aio_pika.abc.AbstractIncomingMessage]:
        messages = []
        while (
            message := await self.queue.get(no_ack=True, fail=False, timeout=DEADLINE)
        ) is not None:
            messages.append(message)
        return messages


@pytest.fixture
def make_tap(
    channel: AbstractChannel, exchange: str, queue_name: Callable[[str], str]
) -> Callable[..., Awaitable[Tap]]:
    async def make(*routing_keys: str, base: str = "tap") -> Tap:
        topic = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(queue_name(base), durable=True)
        for key in routing_keys:
            await queue.bind(topic, routing_key=key)
        return Tap(channel, queue)

    return make


@pytest.fixture
async def publisher(rabbitmq_url: str, exchange: str) -> AsyncIterator[EventPublisher]:
    publisher = EventPublisher(rabbitmq_url, exchange, **FAST)
    await publisher.connect()
    yield publisher
    await publisher.close()


@pytest.fixture
async def consumers(rabbitmq_url: str, exchange: str) -> AsyncIterator[Callable[..., Any]]:
    """Starts consumers on the test exchange and stops them at the end of the test."""
    started: list[EventConsumer] = []

    async def start(queue: str, routing_keys: list[str], handler: Any, **kwargs: Any):
        consumer = EventConsumer(
            rabbitmq_url, queue, routing_keys, handler, exchange, **{**FAST, **kwargs}
        )
        await consumer.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        await consumer.stop(timeout=1.0)


@pytest.fixture
async def rabbitmq_proxy(rabbitmq_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of RabbitMQ and the URL that goes through it."""
    parts = urlsplit(rabbitmq_url)
    async with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672) as proxy:
        credentials, _, _ = parts.netloc.rpartition("@")
        address = f"127.0.0.1:{proxy.port}"
        netloc = f"{credentials}@{address}" if credentials else address
        yield proxy, parts._replace(netloc=netloc).geturl()


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def event_bus_db_url(postgres_databases: PostgresDatabases) -> str:
    url = postgres_databases.create("event_bus")
    run_async(lambda: apply_migrations(url, [MIGRATIONS]))
    return url


@pytest.fixture(scope="session")
async def pool(event_bus_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(event_bus_db_url, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest.fixture
async def db(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The migrated database, emptied before the test."""
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE event_outbox, processed_events RESTART IDENTITY")
    return pool
