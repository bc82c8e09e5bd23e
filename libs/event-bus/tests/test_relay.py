"""The relay over any outbox, with a store and a broker in memory: what is marked in each
mode, and how a failure is told (the PostgreSQL outbox and a real broker: test_outbox.py)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from event_bus import PublishFailed
from event_bus.relay import Relay


class MemoryBatch:
    def __init__(self, outbox: "MemoryOutbox", ids: list[int]) -> None:
        self.outbox = outbox
        self.ids = ids
        self.events = [outbox.events[i] for i in ids]

    async def mark_published(self, positions: Sequence[int]) -> None:
        self.outbox.published.update(self.ids[p] for p in positions)

    async def mark_failed(self, position: int, error: str) -> None:
        self.outbox.failed.append((self.ids[position], error))


class MemoryOutbox:
    """Events by their index; ``broken`` makes taking a batch raise it."""

    def __init__(self, count: int) -> None:
        self.events = [{"eventId": str(n)} for n in range(count)]
        self.published: set[int] = set()
        self.failed: list[tuple[int, str]] = []
        self.broken: Exception | None = None

    @asynccontextmanager
    async def batch(self, limit: int) -> AsyncIterator[MemoryBatch]:
        if self.broken is not None:
            raise self.broken
        pending = [i for i in range(len(self.events)) if i not in self.published]
        yield MemoryBatch(self, pending[:limit])

    async def count_pending(self) -> int:
        return len(self.events) - len(self.published)

    def is_outage(self, error: Exception) -> bool:
        return isinstance(error, ConnectionError)


class Broker:
    """Confirms every event but those in ``refuse``, each after ``delay`` seconds."""

    def __init__(self, *refuse: str, delay: float = 0.0) -> None:
        self.refuse = set(refuse)
        self.delay = delay
        self.published: list[str] = []

    async def connect(self) -> None:
        return None

    async def publish(self, event: dict[str, Any]) -> None:
        await asyncio.sleep(self.delay)
        if event["eventId"] in self.refuse:
            raise PublishFailed(f"nacked {event['eventId']}")
        self.published.append(event["eventId"])


async def test_in_order_a_failed_event_stops_the_batch_and_is_noted():
    outbox, broker = MemoryOutbox(5), Broker("2")
    relay = Relay(outbox, broker, ordered=True)

    result = await relay.publish_batch()

    assert result.published == 2 and isinstance(result.error, PublishFailed)
    assert broker.published == ["0", "1"]
    assert outbox.published == {0, 1}
    assert outbox.failed == [(2, "nacked 2")]


async def test_unordered_a_batch_goes_at_once_and_whatever_was_confirmed_is_marked():
    outbox, broker = MemoryOutbox(5), Broker("1", "3", delay=0.05)
    relay = Relay(outbox, broker, ordered=False)

    started = time.monotonic()
    result = await relay.publish_batch()

    assert time.monotonic() - started < 0.2  # five confirms waited for together
    assert result.published == 3 and str(result.error) == "nacked 1"  # the first failure
    assert outbox.published == {0, 2, 4}
    assert [position for position, _ in outbox.failed] == [1, 3]
    assert relay.published_total == 3


async def test_a_full_batch_wakes_the_relay_for_the_next_one():
    outbox, broker = MemoryOutbox(25), Broker()
    relay = Relay(outbox, broker, batch_size=10, poll_interval=30)  # only wakes bring more
    relay.start()
    try:
        for _ in range(200):
            if len(outbox.published) == 25:
                break
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
    assert broker.published == [str(n) for n in range(25)]


async def wait_for_failures(relay: Relay, count: int) -> None:
    for _ in range(500):
        if relay.consecutive_failures >= count:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"fewer than {count} failures")


async def test_an_outage_is_one_warning_with_what_waits_and_a_bug_is_an_error_with_its_trace(
    caplog,
):
    outbox = MemoryOutbox(3)
    owner = logging.getLogger("the.owner")
    relay = Relay(outbox, Broker(), name="test-relay", initial_backoff=0.01, logger=owner)
    with caplog.at_level(logging.WARNING, logger="the.owner"):
        outbox.broken = ConnectionError("store away")
        relay.start()
        try:
            await wait_for_failures(relay, 1)
            outbox.broken = KeyError("a bug")
            await wait_for_failures(relay, 3)
        finally:
            await relay.stop()
    records = [r for r in caplog.records if r.name == "the.owner"]
    outage, bug = records[0], next(r for r in records if "a bug" in r.getMessage())
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert outage.getMessage() == (
        "test-relay cannot publish (store away); 3 events pending, retrying in 0.0s"
    )
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert relay.is_running is False
