"""Broadcast subscribers: every replica hears every event, and catches up after each
(re)connection, since what is published while it is away is not kept for it."""

import asyncio

import aio_pika

from event_bus import BroadcastSubscriber, Event, new_event

FAST = {"connect_timeout": 2.0, "reconnect_interval": 0.1}


async def test_every_subscriber_hears_every_event(rabbitmq_url, exchange, publisher, unique_type):
    event_type = unique_type("broadcast")
    heard: list[list[Event]] = [[], []]
    subscribers = [
        BroadcastSubscriber(rabbitmq_url, [event_type], heard[i].append, exchange=exchange)
        for i in range(2)
    ]
    try:
        for subscriber in subscribers:
            await subscriber.start()
        await publisher.publish(new_event(event_type, {"n": 1}))
        await publisher.publish(new_event("not.this.one", {"n": 2}))
        for _ in range(100):
            if all(heard):
                break
            await asyncio.sleep(0.02)
        assert [[e.body for e in h] for h in heard] == [[{"n": 1}], [{"n": 1}]]
    finally:
        for subscriber in subscribers:
            await subscriber.stop()


async def test_it_catches_up_after_subscribing_and_after_a_reconnection(
    rabbitmq_proxy, exchange, unique_type, eventually
):
    proxy, url = rabbitmq_proxy
    catch_ups: list[int] = []

    async def catch_up() -> None:
        catch_ups.append(len(catch_ups))

    subscriber = BroadcastSubscriber(
        url,
        [unique_type("catch-up")],
        lambda event: None,
        on_connected=catch_up,
        exchange=exchange,
        **FAST,
    )
    try:
        await subscriber.start()
        await subscriber.caught_up()
        assert catch_ups == [0]
        await proxy.cut()
        await eventually(lambda: not subscriber.is_connected, what="the cut to be seen")
        await proxy.restore()
        await eventually(lambda: len(catch_ups) == 2, what="a catch-up after reconnecting")
    finally:
        await subscriber.stop()


async def test_a_failing_handler_or_a_malformed_message_does_not_stop_it(
    rabbitmq_url, exchange, publisher, channel, unique_type, eventually
):
    event_type = unique_type("sturdy")
    heard: list[Event] = []

    def handler(event: Event) -> None:
        if event.body.get("boom"):
            raise RuntimeError("boom")
        heard.append(event)

    subscriber = BroadcastSubscriber(rabbitmq_url, [event_type], handler, exchange=exchange)
    try:
        await subscriber.start()
        bus = await channel.get_exchange(exchange)
        await bus.publish(aio_pika.Message(b"not json"), routing_key=event_type)
        await publisher.publish(new_event(event_type, {"boom": True}))
        await publisher.publish(new_event(event_type, {"ok": True}))
        await eventually(lambda: len(heard) == 1, what="the good event")
        assert heard[0].body == {"ok": True}
    finally:
        await subscriber.stop()
