"""The login throttle against a real Redis: slots are taken atomically, before any hash."""

import asyncio
import logging
import uuid

import pytest_asyncio
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from auth.throttling.login_throttle import LoginThrottle

WINDOW = 60


@pytest_asyncio.fixture(loop_scope="session")
async def cache(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def throttle_for(client, *, per_login=10, per_address=1000) -> LoginThrottle:
    return LoginThrottle(
        client, max_failures=per_login, max_failures_per_ip=per_address, window=WINDOW
    )


def unreachable_redis() -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))


def address() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


async def counts(client, attempt) -> tuple[int, int]:
    pair, ip = await client.mget(attempt.pair_key, attempt.ip_key)
    return int(pair or 0), int(ip or 0)


async def test_fifty_concurrent_attempts_get_exactly_the_limit_of_slots(cache):
    throttle, ip = throttle_for(cache, per_login=10), address()
    attempts = await asyncio.gather(*(throttle.reserve("alice", ip) for _ in range(50)))
    granted = [a for a in attempts if a.retry_after is None]
    refused = [a for a in attempts if a.retry_after is not None]
    assert len(granted) == 10 and len(refused) == 40
    assert all(1 <= a.retry_after <= WINDOW for a in refused)
    # Refused attempts count nothing, so they cannot push the window on.
    assert await counts(cache, granted[0]) == (10, 10)
    assert 0 < await cache.ttl(granted[0].pair_key) <= WINDOW


async def test_the_address_limit_holds_across_many_logins(cache):
    throttle, ip = throttle_for(cache, per_login=10, per_address=10), address()
    attempts = await asyncio.gather(*(throttle.reserve(f"user{i}", ip) for i in range(50)))
    assert sum(a.retry_after is None for a in attempts) == 10
    elsewhere = await throttle.reserve("user0", address())
    assert elsewhere.retry_after is None, "another address is not held back"


async def test_logins_are_counted_whatever_their_case_and_spaces(cache):
    throttle, ip = throttle_for(cache, per_login=2), address()
    await throttle.reserve("Alice", ip)
    await throttle.reserve(" alice ", ip)
    assert (await throttle.reserve("ALICE", ip)).retry_after is not None


async def test_a_success_clears_the_login_and_gives_the_address_its_slot_back(cache):
    throttle, ip = throttle_for(cache, per_login=3), address()
    for _ in range(2):
        await throttle.reserve("bob", ip)  # two failures
    attempt = await throttle.reserve("bob", ip)
    assert await counts(cache, attempt) == (3, 3)
    await throttle.succeeded(attempt)
    assert await counts(cache, attempt) == (0, 2)
    assert await cache.exists(attempt.pair_key) == 0


async def test_an_abandoned_attempt_gives_both_slots_back(cache):
    throttle, ip = throttle_for(cache, per_login=1), address()
    attempt = await throttle.reserve("carol", ip)
    assert (await throttle.reserve("carol", ip)).retry_after is not None
    await throttle.abandoned(attempt)
    assert await counts(cache, attempt) == (0, 0)
    assert (await throttle.reserve("carol", ip)).retry_after is None


async def test_giving_back_to_an_expired_counter_leaves_no_key_behind(cache):
    throttle, ip = throttle_for(cache), address()
    attempt = await throttle.reserve("dave", ip)
    await cache.delete(attempt.pair_key, attempt.ip_key)  # as if the window had ended
    await throttle.abandoned(attempt)
    await throttle.succeeded(attempt)
    assert await cache.exists(attempt.pair_key, attempt.ip_key) == 0


async def test_a_counter_without_a_ttl_gets_one(cache):
    throttle, ip = throttle_for(cache, per_login=1), address()
    attempt = await throttle.reserve("erin", ip)
    await cache.persist(attempt.pair_key)
    refused = await throttle.reserve("erin", ip)
    assert refused.retry_after == WINDOW
    assert 0 < await cache.ttl(attempt.pair_key) <= WINDOW


async def test_a_refused_attempt_has_nothing_to_give_back(cache):
    throttle, ip = throttle_for(cache, per_login=1), address()
    first = await throttle.reserve("frank", ip)
    refused = await throttle.reserve("frank", ip)
    await throttle.abandoned(refused)
    assert await counts(cache, first) == (1, 1)


async def test_without_redis_logins_go_through_with_a_warning(caplog):
    unreachable = unreachable_redis()
    throttle = throttle_for(unreachable, per_login=1)
    with caplog.at_level(logging.WARNING, logger="auth.throttling.login_throttle"):
        attempts = [await throttle.reserve("grace", "10.9.9.9") for _ in range(3)]
        await throttle.succeeded(attempts[0])
        await throttle.abandoned(attempts[1])
    await unreachable.aclose()
    assert all(a.retry_after is None and not a.counted for a in attempts)
    assert "login throttle unavailable" in caplog.text


async def test_redis_failing_between_reserve_and_outcome_is_only_a_warning(cache, caplog):
    throttle, ip = throttle_for(cache), address()
    attempt = await throttle.reserve("heidi", ip)
    unreachable = unreachable_redis()
    broken = throttle_for(unreachable)
    with caplog.at_level(logging.WARNING, logger="auth.throttling.login_throttle"):
        await broken.succeeded(attempt)
    await unreachable.aclose()
    assert "login throttle unavailable" in caplog.text
    assert await counts(cache, attempt) == (1, 1)
