"""The 2FA code throttle against a real Redis: per (user, address), per user from anywhere."""

import asyncio
import logging
import uuid

import pytest_asyncio
import redis.asyncio as redis

from auth.throttling.code_throttle import CodeThrottle

from .test_login_throttle import address, unreachable_redis

WINDOW = 60


@pytest_asyncio.fixture(loop_scope="session")
async def cache(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def throttle_for(client, *, per_pair=5, per_user=20) -> CodeThrottle:
    return CodeThrottle(
        client, max_failures=per_pair, max_failures_per_user=per_user, window=WINDOW
    )


async def test_parallel_guesses_from_one_address_get_the_pair_limit(cache):
    throttle, user = throttle_for(cache), uuid.uuid4()
    ip = address()
    attempts = await asyncio.gather(*(throttle.reserve(user, ip) for _ in range(30)))
    assert sum(a.retry_after is None for a in attempts) == 5


async def test_the_user_limit_holds_across_addresses(cache):
    throttle, user = throttle_for(cache, per_pair=5, per_user=8), uuid.uuid4()
    attempts = [await throttle.reserve(user, address()) for _ in range(12)]
    assert [a.retry_after is None for a in attempts] == [True] * 8 + [False] * 4
    other_user = await throttle.reserve(uuid.uuid4(), address())
    assert other_user.retry_after is None, "another user is not held back"


async def test_a_right_code_clears_the_pair_and_gives_the_user_a_slot_back(cache):
    throttle, user, ip = throttle_for(cache), uuid.uuid4(), address()
    for _ in range(2):
        await throttle.reserve(user, ip)
    attempt = await throttle.reserve(user, ip)
    await throttle.succeeded(attempt)
    pair, per_user = await cache.mget(attempt.pair_key, attempt.user_key)
    assert (pair, int(per_user)) == (None, 2)


async def test_without_redis_codes_are_checked_unthrottled(caplog):
    throttle = throttle_for(unreachable_redis(), per_pair=1)
    with caplog.at_level(logging.WARNING, logger="auth.throttling.code_throttle"):
        attempts = [await throttle.reserve(uuid.uuid4(), "10.9.9.9") for _ in range(3)]
    assert all(a.retry_after is None and not a.counted for a in attempts)
    assert "2FA code throttle unavailable" in caplog.text
