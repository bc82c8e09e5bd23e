"""FixedWindow against a real Redis: counted before compared, per bucket and clock window,
Retry-After until the window turns, give-backs, and failing open."""

import asyncio
import logging

import pytest

from rate_limits import FailOpen, FixedWindow

from .conftest import Clock

log = logging.getLogger("tests.rate_limits")
MINUTE = 10**8  # a window number far from now's, so only the test's clock decides


def windows(client, prefix: str, clock=None, backoff_seconds: float = 0.0) -> FixedWindow:
    """A limiter of one-minute windows on ``clock`` (default: the wall clock's)."""
    on_clock = {"clock": clock} if clock else {}
    fail_open = FailOpen(log, "test limit unavailable", backoff_seconds, **on_clock)
    return FixedWindow(client, prefix=prefix, fail_open=fail_open, window_seconds=60, **on_clock)


async def test_fifty_parallel_hits_are_each_counted_before_compared(client, prefix):
    limiter = windows(client, prefix)
    counts = await asyncio.gather(*(limiter.hit("alice", 10) for _ in range(50)))
    assert sorted(c.count for c in counts) == list(range(1, 51))
    assert sum(not c.exceeded for c in counts) == 10
    assert all(c.limit == 10 for c in counts)
    # A refused hit is counted too: it was made.
    assert int(await client.get(counts[0].counter)) == 50


async def test_each_bucket_and_window_has_its_own_counter_kept_two_windows(client, prefix):
    clock = Clock(MINUTE * 60 + 45.3)
    limiter = windows(client, prefix, clock)
    first = await limiter.hit("alice", 1)
    assert first.counter == f"{prefix}:alice:{MINUTE}"
    assert 60 < await client.ttl(first.counter) <= 120
    assert (await limiter.hit("alice", 1)).exceeded
    assert not (await limiter.hit("bob", 1)).exceeded  # another bucket
    clock.now += 15  # the next minute
    assert limiter.window() == MINUTE + 1
    again = await limiter.hit("alice", 1)
    assert again.counter == f"{prefix}:alice:{MINUTE + 1}" and again.count == 1
    assert int(await client.get(first.counter)) == 2


@pytest.mark.parametrize(
    ("second", "retry_after"), [(0.0, 60), (0.9, 60), (45.3, 15), (59.0, 1), (59.99, 1)]
)
async def test_retry_after_is_the_time_until_the_window_turns(client, prefix, second, retry_after):
    limiter = windows(client, prefix, Clock(MINUTE * 60 + second))
    count = await limiter.hit("alice", 0)
    assert count.exceeded and count.retry_after == retry_after


async def test_a_cost_counts_that_much_and_test_counts_nothing(client, prefix):
    limiter = windows(client, prefix)
    before = await limiter.test("key", 10)
    assert before.count == 1 and not before.exceeded  # what one more would make it
    answer = await limiter.hit("key", 10, cost=12)
    assert answer.count == 12 and answer.exceeded  # counted even past the limit
    after = await limiter.test("key", 10)
    assert after.count == 13 and after.exceeded
    assert int(await client.get(answer.counter)) == 12
    # At the limit exactly, the next one is refused; just below, it passes.
    assert (await limiter.test("other", 3, cost=3)).exceeded is False
    await limiter.hit("other", 3, cost=3)
    assert (await limiter.test("other", 3)).exceeded


async def test_a_window_may_be_named_by_the_caller(client, prefix):
    limiter = windows(client, prefix)
    count = await limiter.hit("key", 5, cost=3, window=7)
    assert count.counter == f"{prefix}:key:7"
    assert (await limiter.test("key", 5, window=7)).count == 4
    assert (await limiter.test("key", 5)).count == 1  # the clock's window is another


async def test_a_hit_given_back_is_uncounted(client, prefix):
    limiter = windows(client, prefix)
    counted = await limiter.hit("ip:10.0.0.1", 1)
    assert (await limiter.hit("ip:10.0.0.1", 1)).exceeded
    await limiter.give_back(counted.counter)
    await limiter.give_back(counted.counter)
    assert not (await limiter.hit("ip:10.0.0.1", 1)).exceeded


async def test_a_give_back_to_an_expired_counter_leaves_nothing_without_a_ttl(client, prefix):
    limiter = windows(client, prefix)
    counted = await limiter.hit("ip:10.0.0.2", 1)
    await client.delete(counted.counter)  # as if its two windows had passed
    await limiter.give_back(counted.counter)
    assert 0 < await client.ttl(counted.counter) <= 120


async def test_only_its_own_counters_are_given_back(client, prefix):
    with pytest.raises(ValueError, match="not a counter of this limiter"):
        await windows(client, prefix).give_back("elsewhere:ip:1")


async def test_the_services_pool_is_the_one_counting(client, prefix):
    await windows(client, prefix).hit("alice", 1)
    names = [c["name"] for c in await client.client_list()]
    assert "rate-limits-tests" in names
    assert not [n for n in names if n and n != "rate-limits-tests"]


async def test_without_redis_hits_go_through_with_a_warning(unreachable, prefix, caplog):
    limiter = windows(unreachable, prefix)
    with caplog.at_level(logging.WARNING, logger=log.name):
        assert await limiter.hit("alice", 1) is None
        assert await limiter.test("alice", 1) is None
        await limiter.give_back(f"{prefix}:alice:1")
    warnings = [r for r in caplog.records if r.name == log.name]
    assert [r.getMessage() for r in warnings] == ["test limit unavailable"] * 3
    assert all("Connect" in r.error for r in warnings)


async def test_with_a_backoff_redis_is_left_alone_that_long(unreachable, prefix, caplog):
    clock = Clock(1000.0)
    limiter = windows(unreachable, prefix, clock, backoff_seconds=5.0)
    with caplog.at_level(logging.WARNING, logger=log.name):
        assert await limiter.hit("alice", 1) is None
        clock.now += 4.9
        assert await limiter.hit("alice", 1) is None  # not tried
        assert await limiter.test("alice", 1) is None  # not tried
        clock.now += 0.2
        assert await limiter.hit("alice", 1) is None  # tried again
    warnings = [r for r in caplog.records if r.name == log.name]
    assert len(warnings) == 2
    assert all(r.retryInSeconds == 5.0 for r in warnings)


async def test_a_redis_that_forgot_its_scripts_still_counts(client, prefix):
    limiter = windows(client, prefix)
    await limiter.hit("alice", 5)
    await client.script_flush()  # as after a restart
    assert (await limiter.hit("alice", 5)).count == 2
