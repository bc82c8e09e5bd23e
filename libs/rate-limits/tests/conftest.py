"""A Redis client of the test run's own database, and one that nothing answers."""

import uuid

import pytest
import pytest_asyncio
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


@pytest_asyncio.fixture(loop_scope="session")
async def client(redis_url):
    client = redis.Redis.from_url(redis_url, client_name="rate-limits-tests")
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def unreachable():
    client = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own."""
    return f"test:{uuid.uuid4().hex[:8]}"


class Clock:
    """A wall clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
