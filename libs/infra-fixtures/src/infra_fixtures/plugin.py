"""The pytest plugin: session fixtures yielding URLs of isolated, real backing services."""

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aio_pika
import asyncpg
import pymongo
import pytest
import redis

from infra_fixtures.isolation import unique_name, worker_index
from infra_fixtures.sources import InfrastructureUnavailable, resolve, with_path

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    # A service refuses to start without ENVIRONMENT; under test it is "test" unless a test
    # says otherwise (monkeypatch).
    os.environ.setdefault("ENVIRONMENT", "test")
    # The services a session starts stay up until it ends (session-scoped apps), all of both
    # workers' on one PostgreSQL of 100 connections: their pools stay small and close what
    # they do not use.
    os.environ.setdefault("DATABASE_POOL_MIN_SIZE", "0")
    os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "5")
    os.environ.setdefault("DATABASE_POOL_IDLE_SECONDS", "2")


def run_async(make_coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop, whatever loop the caller has."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make_coro()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture(scope="session")
def _infra_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def _source_url(kind: str, stack: ExitStack) -> str:
    try:
        return resolve(kind, stack).url
    except InfrastructureUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_url(_infra_stack: ExitStack) -> str:
    """URL of the PostgreSQL server itself (its maintenance database)."""
    return _source_url("postgres", _infra_stack)


@dataclass
class PostgresDatabases:
    """Creates fresh databases on the test server and drops them all at the end of the run."""

    server_url: str
    created: list[str] = field(default_factory=list)

    def create(self, prefix: str = "test") -> str:
        name = unique_name(prefix) + f"_{len(self.created)}"

        async def create() -> None:
            conn = await asyncpg.connect(self.server_url)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        run_async(create)
        self.created.append(name)
        return with_path(self.server_url, name)

    def drop_all(self) -> None:
        async def drop() -> None:
            conn = await asyncpg.connect(self.server_url)
            try:
                for name in self.created:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        run_async(drop)


@pytest.fixture(scope="session")
def postgres_databases(postgres_server_url: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server_url)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A fresh database for this test run and worker."""
    return postgres_databases.create()


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(_infra_stack: ExitStack) -> Iterator[str]:
    """A Redis database number of this worker's own (1 + worker index), emptied before use.

    Database 0 is left to the local stack, so tests never wipe a developer's running services.
    """
    server = _source_url("redis", _infra_stack)
    url = with_path(server, str(1 + worker_index()))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


# --- RabbitMQ ---------------------------------------------------------------------------------


@dataclass
class BusNamespace:
    """An exchange and queue names private to this run; deleted when the run ends."""

    url: str
    exchange: str
    queues: list[str] = field(default_factory=list)
    extra_exchanges: list[str] = field(default_factory=list)

    def exchange_name(self, suffix: str) -> str:
        """Another exchange of this run's, for a second stack that must not share events."""
        name = f"{self.exchange}.{suffix}"
        self.extra_exchanges.append(name)
        return name

    def queue_name(self, base: str) -> str:
        name = f"{self.exchange}.{base}"
        self.queues.append(name)
        return name

    def cleanup(self) -> None:
        async def delete() -> None:
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                for queue in self.queues:
                    await channel.queue_delete(queue)
                    await channel.queue_delete(f"{queue}.dlq")
                for exchange in (self.exchange, *self.extra_exchanges):
                    await channel.exchange_delete(exchange)
                    await channel.exchange_delete(f"{exchange}.dlx")

        run_async(delete)


@pytest.fixture(scope="session")
def rabbitmq_url(_infra_stack: ExitStack) -> str:
    return _source_url("rabbitmq", _infra_stack)


@pytest.fixture(scope="session")
def bus_namespace(rabbitmq_url: str) -> Iterator[BusNamespace]:
    namespace = BusNamespace(url=rabbitmq_url, exchange=unique_name("platform.events.test"))
    yield namespace
    namespace.cleanup()


# --- MongoDB ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongo_url(_infra_stack: ExitStack) -> str:
    return _source_url("mongo", _infra_stack)


@pytest.fixture(scope="session")
def mongo_database_name(mongo_url: str) -> Iterator[str]:
    """A database name unique to this run; dropped at the end."""
    name = unique_name("test")
    yield name
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_url, serverSelectionTimeoutMS=5000
    )
    try:
        client.drop_database(name)
    finally:
        client.close()
