"""SlotCounters against a real Redis: a slot in every counter or in none, taken atomically;
refusals count nothing; slots given back and counters cleared; failing open."""

import asyncio
import logging

import pytest

from rate_limits import FailOpen, Reservation, SlotCounters

log = logging.getLogger("tests.rate_limits.slots")
WINDOW = 60


def slots(client, *limits: int) -> SlotCounters:
    return SlotCounters(
        client,
        limits=limits,
        window_seconds=WINDOW,
        fail_open=FailOpen(log, "test throttle unavailable"),
    )


def keys(prefix: str) -> tuple[str, str]:
    return f"{{{prefix}}}:pair", f"{{{prefix}}}:address"


async def counts(client, *counters: str) -> list[int]:
    return [int(v or 0) for v in await client.mget(*counters)]


async def test_fifty_parallel_attempts_get_exactly_the_limit_of_slots(client, prefix):
    counters = slots(client, 10, 1000)
    reservations = await asyncio.gather(*(counters.reserve(keys(prefix)) for _ in range(50)))
    assert reservations.count(Reservation()) == 10
    refused = [r for r in reservations if r.retry_after is not None]
    assert len(refused) == 40
    assert all(not r.counted and 1 <= r.retry_after <= WINDOW for r in refused)
    assert await counts(client, *keys(prefix)) == [10, 10]  # refusals counted nothing
    assert 0 < await client.ttl(keys(prefix)[0]) <= WINDOW


async def test_any_full_counter_refuses_and_then_none_is_counted(client, prefix):
    pair, address = keys(prefix)
    counters = slots(client, 10, 2)
    for other in ("a", "b"):
        assert await counters.reserve((f"{pair}:{other}", address)) == Reservation()
    refused = await counters.reserve((pair, address))
    assert refused.retry_after is not None
    assert await counts(client, pair, address) == [0, 2]


async def test_a_full_counter_without_a_ttl_gets_one(client, prefix):
    pair, address = keys(prefix)
    counters = slots(client, 1, 10)
    await counters.reserve((pair, address))
    await client.persist(pair)
    assert (await counters.reserve((pair, address))).retry_after == WINDOW
    assert 0 < await client.ttl(pair) <= WINDOW


async def test_release_clears_some_counters_and_gives_the_others_a_slot_back(client, prefix):
    pair, address = keys(prefix)
    counters = slots(client, 3, 10)
    for _ in range(3):
        await counters.reserve((pair, address))
    await counters.release(clear=[pair], give_back=[address])
    assert await client.exists(pair) == 0
    assert await counts(client, pair, address) == [0, 2]
    await counters.release(give_back=[pair, address])
    assert await counts(client, pair, address) == [0, 1]


async def test_releasing_expired_counters_leaves_no_key_behind(client, prefix):
    pair, address = keys(prefix)
    counters = slots(client, 3, 10)
    await counters.reserve((pair, address))
    await client.delete(pair, address)  # as if the window had ended
    await counters.release(give_back=[pair, address])
    await counters.release(clear=[pair], give_back=[address])
    assert await client.exists(pair, address) == 0


async def test_an_attempt_names_one_counter_per_limit(client, prefix):
    with pytest.raises(ValueError, match="2 counters expected"):
        await slots(client, 1, 2).reserve(keys(prefix)[:1])


async def test_without_redis_attempts_go_through_with_a_warning(unreachable, prefix, caplog):
    counters = slots(unreachable, 1, 1)
    with caplog.at_level(logging.WARNING, logger=log.name):
        reservations = [await counters.reserve(keys(prefix)) for _ in range(3)]
        await counters.release(clear=keys(prefix)[:1], give_back=keys(prefix)[1:])
    assert reservations == [Reservation(counted=False)] * 3
    warnings = [r.getMessage() for r in caplog.records if r.name == log.name]
    assert warnings == ["test throttle unavailable"] * 4


async def test_a_redis_that_forgot_its_scripts_still_takes_slots(client, prefix):
    counters = slots(client, 5, 5)
    await counters.reserve(keys(prefix))
    await client.script_flush()  # as after a restart
    assert await counters.reserve(keys(prefix)) == Reservation()
    await client.script_flush()
    await counters.release(give_back=keys(prefix))
    assert await counts(client, *keys(prefix)) == [1, 1]
