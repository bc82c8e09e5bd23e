import asyncio
import json
import logging
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from event_bus import EventPublisher, MalformedEvent, OutboxRelay, enqueue, new_event
from infra_fixtures.proxy import TcpProxy

DEADLINE = 5.0
FAST_RELAY = {"poll_interval": 0.05, "initial_backoff": 0.02, "max_backoff": 0.1}


async def _enqueue_committed(pool, *events: dict) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await enqueue(conn, event)


async def _published_ids(tap) -> list[str]:
    return [json.loads(m.body)["eventId"] for m in await tap.drain()]


async def test_enqueue_in_a_rolled_back_transaction_publishes_nothing(
    db, publisher, make_tap, unique_type
) -> None:
    event_type = unique_type("rollback")
    tap = await make_tap(event_type)
    async with db.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await conn.execute("CREATE TEMP TABLE business (x int)")
                await enqueue(conn, new_event(event_type, {}))
                raise RuntimeError("business change failed")

    relay = OutboxRelay(db, publisher, **FAST_RELAY)
    assert await relay.run_once() == 0
    assert await relay.pending_count() == 0
    assert await tap.count() == 0


async def test_enqueue_refuses_a_malformed_event(db) -> None:
    async with db.acquire() as conn, conn.transaction():
        with pytest.raises(MalformedEvent):
            await enqueue(conn, {"type": "no.id", "version": 1})


async def test_committed_event_is_published_exactly_once(
    db, publisher, make_tap, unique_type, eventually
) -> None:
    event_type = unique_type("commit")
    tap = await make_tap(event_type)
    event = new_event(event_type, {"userId": "u1", "n": 1})
    relay = OutboxRelay(db, publisher, poll_interval=30.0)  # only wake() can make it publish
    relay.start()
    try:
        await _enqueue_committed(db, event)
        assert await relay.pending_count() == 1
        relay.wake()
        await eventually(lambda: _zero(relay.pending_count), what="the row to be published")
    finally:
        await relay.stop()

    assert await relay.run_once() == 0
    [message] = await tap.drain()
    assert json.loads(message.body) == event
    assert message.message_id == event["eventId"]
    async with db.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM event_outbox")
    assert row["event_id"] == uuid.UUID(event["eventId"])
    assert row["routing_key"] == event_type
    assert row["published_at"] is not None
    assert row["attempts"] == 1 and row["last_error"] is None


async def test_run_once_publishes_a_batch_in_id_order(db, publisher, make_tap, unique_type) -> None:
    event_type = unique_type("batch")
    tap = await make_tap(event_type)
    events = [new_event(event_type, {"n": n}) for n in range(7)]
    await _enqueue_committed(db, *events)
    relay = OutboxRelay(db, publisher, batch_size=3)
    assert [await relay.run_once() for _ in range(4)] == [3, 3, 1, 0]
    assert await _published_ids(tap) == [e["eventId"] for e in events]
    assert await relay.lag_seconds() == 0.0


async def test_a_failing_row_stops_the_batch_so_nothing_overtakes_it(
    db, publisher, make_tap, unique_type
) -> None:
    event_type = unique_type("poison")
    tap = await make_tap(event_type)
    first, last = new_event(event_type, {"n": 1}), new_event(event_type, {"n": 3})
    await _enqueue_committed(db, first)
    async with db.acquire() as conn:  # bypasses enqueue's validation, as a bad migration might
        await conn.execute(
            "INSERT INTO event_outbox (event_id, routing_key, payload) VALUES ($1, $2, $3)",
            uuid.uuid4(),
            event_type,
            json.dumps({"type": event_type, "no": "envelope"}),
        )
    await _enqueue_committed(db, last)

    relay = OutboxRelay(db, publisher)
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0
    assert await relay.pending_count() == 2
    assert await _published_ids(tap) == [first["eventId"]]
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT attempts, last_error FROM event_outbox ORDER BY id")
    assert [r["attempts"] for r in rows] == [1, 2, 0]
    assert "eventId" in rows[1]["last_error"]
    assert rows[2]["last_error"] is None


async def test_relay_keeps_events_while_the_broker_is_cut_and_sends_them_in_order_after(
    db, rabbitmq_proxy, exchange, make_tap, unique_type, eventually, fast, caplog
) -> None:
    proxy, url = rabbitmq_proxy
    event_type = unique_type("outage")
    tap = await make_tap(event_type)
    publisher = EventPublisher(url, exchange, confirm_timeout=0.5, **fast)
    await publisher.connect()
    relay = OutboxRelay(db, publisher, **FAST_RELAY)
    relay.start()
    try:
        await proxy.cut()
        events = [new_event(event_type, {"n": n}) for n in range(5)]
        with caplog.at_level(logging.WARNING, logger="event_bus.outbox"):
            for event in events:
                await _enqueue_committed(db, event)
                relay.wake()
            await eventually(lambda: relay.consecutive_failures >= 3, what="repeated retries")

        assert relay.is_running  # no exception escaped the relay
        assert await relay.pending_count() == 5
        assert await relay.lag_seconds() > 0
        assert await tap.count() == 0
        async with db.acquire() as conn:
            first = await conn.fetchrow("SELECT attempts, last_error FROM event_outbox ORDER BY id")
        assert first["attempts"] >= 1 and first["last_error"]
        warnings = [r.getMessage() for r in caplog.records if r.name == "event_bus.outbox"]
        assert any("5 events pending" in w for w in warnings)

        await proxy.restore()
        await eventually(lambda: _zero(relay.pending_count), what="the backlog to drain")
    finally:
        await relay.stop()
        await publisher.close()

    assert await _published_ids(tap) == [e["eventId"] for e in events]


async def test_relay_connects_a_publisher_that_could_not_connect_at_start_up(
    db, rabbitmq_proxy, exchange, make_tap, unique_type, eventually, fast
) -> None:
    proxy, url = rabbitmq_proxy
    event_type = unique_type("late")
    tap = await make_tap(event_type)
    await proxy.cut()
    publisher = EventPublisher(url, exchange, **fast)  # never connected
    relay = OutboxRelay(db, publisher, **FAST_RELAY)
    relay.start()
    try:
        event = new_event(event_type, {})
        await _enqueue_committed(db, event)
        await eventually(lambda: relay.consecutive_failures >= 2, what="connect retries")
        assert not publisher.is_connected
        assert await relay.pending_count() == 1

        await proxy.restore()
        await eventually(lambda: _zero(relay.pending_count), what="the event after restore")
        assert publisher.is_connected
    finally:
        await relay.stop()
        await publisher.close()
    assert await _published_ids(tap) == [event["eventId"]]


async def test_two_relays_publish_each_row_exactly_once(
    db, rabbitmq_url, exchange, make_tap, unique_type, eventually, fast
) -> None:
    event_type = unique_type("replicas")
    tap = await make_tap(event_type)
    events = [new_event(event_type, {"n": n}) for n in range(200)]
    await _enqueue_committed(db, *events)

    publishers = [EventPublisher(rabbitmq_url, exchange, **fast) for _ in range(2)]
    for publisher in publishers:
        await publisher.connect()
    relays = [OutboxRelay(db, p, batch_size=20, **FAST_RELAY) for p in publishers]
    try:
        assert await asyncio.gather(*(r.run_once() for r in relays)) == [20, 20]
        for relay in relays:
            relay.start()
        await eventually(lambda: _zero(relays[0].pending_count), what="all rows published")
    finally:
        for relay in relays:
            await relay.stop()
        for publisher in publishers:
            await publisher.close()

    assert sum(r.published_total for r in relays) == 200
    published = await _published_ids(tap)
    assert len(published) == 200
    assert set(published) == {e["eventId"] for e in events}


class GatedPublisher(EventPublisher):
    """A publisher whose first publish waits for a gate: a relay stuck on a slow broker."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def publish(self, event: dict) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().publish(event)


async def test_a_relay_stuck_in_a_batch_does_not_block_another(
    db, rabbitmq_url, exchange, make_tap, unique_type, fast
) -> None:
    event_type = unique_type("stuck")
    tap = await make_tap(event_type)
    events = [new_event(event_type, {"n": n}) for n in range(4)]
    await _enqueue_committed(db, *events)
    stuck_publisher = GatedPublisher(rabbitmq_url, exchange, **fast)
    free_publisher = EventPublisher(rabbitmq_url, exchange, **fast)
    for publisher in (stuck_publisher, free_publisher):
        await publisher.connect()
    stuck = asyncio.create_task(OutboxRelay(db, stuck_publisher, batch_size=2).run_once())
    try:
        await asyncio.wait_for(stuck_publisher.entered.wait(), DEADLINE)
        # The stuck relay holds rows 1-2 locked; the other one skips them instead of waiting.
        free = OutboxRelay(db, free_publisher, batch_size=2)
        assert await asyncio.wait_for(free.run_once(), DEADLINE) == 2
        assert await free.run_once() == 0
        stuck_publisher.gate.set()
        assert await asyncio.wait_for(stuck, DEADLINE) == 2
    finally:
        stuck_publisher.gate.set()
        await asyncio.wait_for(asyncio.gather(stuck, return_exceptions=True), DEADLINE)
        for publisher in (stuck_publisher, free_publisher):
            await publisher.close()
    published = await _published_ids(tap)
    assert published == [e["eventId"] for e in events[2:] + events[:2]]


async def _zero(count) -> bool:
    return await count() == 0


async def test_relay_rides_out_a_database_outage_and_publishes_after_it(
    db, event_bus_db_url, publisher, make_tap, unique_type, eventually
) -> None:
    target = urlsplit(event_bus_db_url)
    async with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        proxied = target._replace(netloc=f"{target.username}@127.0.0.1:{proxy.port}").geturl()
        pool = await asyncpg.create_pool(proxied, min_size=1, max_size=2, timeout=2)
        relay = OutboxRelay(pool, publisher, **FAST_RELAY)
        event_type = unique_type("db-outage")
        tap = await make_tap(event_type)
        try:
            await proxy.cut()
            relay.start()
            await eventually(lambda: relay.consecutive_failures >= 3, what="retries")
            assert relay.is_running  # the database's errors did not end the relay
            event = new_event(event_type, {})
            await _enqueue_committed(db, event)  # another replica's commit, say
            await proxy.restore()
            await eventually(lambda: _zero(relay.pending_count), what="the event after the outage")
        finally:
            await proxy.restore()
            await relay.stop()
            await pool.close()
    assert await _published_ids(tap) == [event["eventId"]]
