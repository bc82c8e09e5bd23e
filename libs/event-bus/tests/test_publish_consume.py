import asyncio
import uuid

import aio_pika
import pytest

from event_bus import (
    BusUnavailable,
    Event,
    EventConsumer,
    EventPublisher,
    MalformedEvent,
    PublishFailed,
    consumers_connected,
    consumers_declared,
    new_event,
)

DEADLINE = 5.0


async def test_round_trip_keeps_the_envelope_and_delivers_persistently(
    publisher, consumers, make_tap, queue_name, unique_type
) -> None:
    event_type = unique_type("roundtrip")
    tap = await make_tap(event_type)
    received: asyncio.Queue[Event] = asyncio.Queue()

    async def handler(event: Event) -> None:
        await received.put(event)

    await consumers(queue_name("roundtrip"), [event_type], handler)
    sent = new_event(event_type, {"userId": "u1", "nested": {"n": [1, 2]}}, version=3)
    await publisher.publish(sent)

    got = await asyncio.wait_for(received.get(), DEADLINE)
    assert got.event_id == uuid.UUID(sent["eventId"])
    assert got.type == event_type
    assert got.version == 3
    assert got.to_dict() == sent
    assert got.body == {"userId": "u1", "nested": {"n": [1, 2]}}

    [raw] = await tap.drain()
    assert raw.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert raw.message_id == sent["eventId"]
    assert raw.content_type == "application/json"
    assert raw.type == event_type
    assert raw.timestamp is not None
    assert raw.routing_key == event_type


async def test_consumer_only_gets_its_routing_keys(
    publisher, consumers, queue_name, unique_type, eventually
) -> None:
    wanted, other = unique_type("wanted"), unique_type("other")
    received: list[str] = []

    async def handler(event: Event) -> None:
        received.append(event.type)

    await consumers(queue_name("keys"), [wanted], handler)
    await publisher.publish(new_event(other, {}))
    await publisher.publish(new_event(wanted, {}))
    await eventually(lambda: received == [wanted], what="only the wanted event")


async def test_publish_refuses_an_invalid_envelope(publisher) -> None:
    with pytest.raises(MalformedEvent):
        await publisher.publish({"type": "x.y", "version": 1})


async def test_ping_and_is_connected(rabbitmq_url, exchange, fast) -> None:
    publisher = EventPublisher(rabbitmq_url, exchange, **fast)
    assert not publisher.is_connected
    assert not await publisher.ping()
    with pytest.raises(PublishFailed):
        await publisher.publish(new_event("x.y", {}))
    await publisher.connect()
    try:
        assert publisher.is_connected
        assert await publisher.ping()
    finally:
        await publisher.close()
    assert not publisher.is_connected


async def test_connect_fails_fast_when_rabbitmq_is_unreachable(
    rabbitmq_proxy, exchange, fast
) -> None:
    proxy, url = rabbitmq_proxy
    await proxy.cut()
    publisher = EventPublisher(url, exchange, **fast)
    async with asyncio.timeout(DEADLINE):
        with pytest.raises(BusUnavailable):
            await publisher.connect()
    assert not publisher.is_connected

    consumer = EventConsumer(url, "never", ["x.y"], lambda e: asyncio.sleep(0), exchange, **fast)
    async with asyncio.timeout(DEADLINE):
        with pytest.raises(BusUnavailable):
            await consumer.start()

    await proxy.restore()
    await publisher.connect()
    assert await publisher.ping()
    await publisher.close()


async def test_connect_times_out_on_a_silent_server(exchange) -> None:
    # A server that accepts TCP but never speaks AMQP.
    server = await asyncio.start_server(lambda r, w: asyncio.sleep(30), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        publisher = EventPublisher(
            f"amqp://guest:guest@127.0.0.1:{port}/", exchange, connect_timeout=0.3
        )
        async with asyncio.timeout(DEADLINE):
            with pytest.raises(BusUnavailable):
                await publisher.connect()
    finally:
        server.close()


async def test_publish_fails_while_the_broker_is_cut_and_recovers_after(
    rabbitmq_proxy, exchange, make_tap, unique_type, eventually, fast
) -> None:
    proxy, url = rabbitmq_proxy
    event_type = unique_type("cut")
    tap = await make_tap(event_type)
    publisher = EventPublisher(url, exchange, confirm_timeout=0.5, **fast)
    await publisher.connect()
    try:
        await proxy.cut()
        with pytest.raises(PublishFailed):
            await publisher.publish(new_event(event_type, {}))
        assert not await publisher.ping()

        await proxy.restore()
        await eventually(publisher.ping, what="publisher to reconnect")
        await publisher.publish(new_event(event_type, {"n": 1}))
        await eventually(lambda: _count_is(tap, 1), what="the event after restore")
    finally:
        await publisher.close()


async def test_consumer_resumes_after_the_connection_drops(
    rabbitmq_proxy, exchange, publisher, queue_name, unique_type, eventually, fast
) -> None:
    proxy, url = rabbitmq_proxy
    event_type = unique_type("resume")
    received: list[Event] = []

    async def handler(event: Event) -> None:
        received.append(event)

    consumer = EventConsumer(url, queue_name("resume"), [event_type], handler, exchange, **fast)
    await consumer.start()
    try:
        await proxy.cut()
        await eventually(lambda: not consumer.is_connected, what="consumer to notice the cut")
        sent = new_event(event_type, {})
        await publisher.publish(sent)  # waits in the durable queue while the consumer is away
        await proxy.restore()
        await eventually(lambda: len(received) == 1, what="delivery after reconnect")
        assert str(received[0].event_id) == sent["eventId"]
    finally:
        await consumer.stop(timeout=1.0)


async def _count_is(tap, expected: int) -> bool:
    return await tap.count() == expected


async def test_consumers_declared_holds_from_the_first_start_through_an_outage(
    rabbitmq_proxy, exchange, queue_name, unique_type, eventually, fast
) -> None:
    """Readiness rides out a broker outage only once the queue exists to hold the events."""
    proxy, url = rabbitmq_proxy
    consumer = EventConsumer(
        url, queue_name("declared"), [unique_type("declared")], _ignore, exchange, **fast
    )
    connected, declared = consumers_connected([consumer]), consumers_declared([consumer])
    assert not declared()
    await consumer.start()
    try:
        assert declared()
        await proxy.cut()
        await eventually(lambda: not consumer.is_connected, what="consumer to notice the cut")
        with pytest.raises(ConnectionError):
            await connected()
        assert declared()
    finally:
        await consumer.stop(timeout=1.0)


async def _ignore(event: Event) -> None:
    return None
