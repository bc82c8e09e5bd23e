import asyncio
import json
import logging

import aio_pika
import pytest

from event_bus import Event, EventConsumer, PermanentEventError, dead_letter_queue, new_event

DEADLINE = 5.0


async def _ready_count(channel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


async def _dead_letters(channel, queue: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    dlq = await channel.declare_queue(dead_letter_queue(queue), passive=True)
    messages = []
    while (message := await dlq.get(no_ack=True, fail=False, timeout=DEADLINE)) is not None:
        messages.append(message)
    return messages


async def _publish_raw(channel, exchange: str, routing_key: str, body: bytes, **props) -> None:
    topic = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    await topic.publish(aio_pika.Message(body, **props), routing_key=routing_key)


async def test_consumer_declares_the_dead_letter_topology(
    consumers, queue_name, channel, exchange, unique_type
) -> None:
    queue = queue_name("topology")
    await consumers(queue, [unique_type("topology")], lambda event: asyncio.sleep(0))
    # Passive declares fail (and close the channel) if anything is missing.
    await channel.declare_exchange(f"{exchange}.dlx", passive=True)
    await channel.declare_queue(f"{queue}.dlq", passive=True)
    await channel.declare_queue(queue, passive=True)
    # Re-declaring the main queue with the same arguments is accepted only if they match.
    await channel.declare_queue(
        queue,
        durable=True,
        arguments={
            "x-dead-letter-exchange": f"{exchange}.dlx",
            "x-dead-letter-routing-key": queue,
        },
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"type": "x.y", "version": 1}).encode(), "eventId"),
    ],
)
async def test_malformed_message_lands_in_the_dlq_with_a_warning(
    body, reason, consumers, queue_name, channel, exchange, unique_type, eventually, caplog
) -> None:
    event_type = unique_type("malformed")
    queue = queue_name("malformed")
    calls: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)

    await consumers(queue, [event_type], handler)
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await _publish_raw(channel, exchange, event_type, body, message_id="poison-1")
        await eventually(lambda: _ready_count(channel, dead_letter_queue(queue)), what="the DLQ")

    [dead] = await _dead_letters(channel, queue)
    assert dead.body == body
    assert calls == []
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.levelno == logging.WARNING
    assert "malformed message" in line.getMessage()
    assert "poison-1" in line.getMessage()
    assert queue in line.getMessage()
    assert reason in line.getMessage()


async def test_permanent_error_dead_letters_at_once(
    consumers, queue_name, channel, publisher, unique_type, eventually, caplog
) -> None:
    event_type = unique_type("permanent")
    queue = queue_name("permanent")
    calls: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        raise PermanentEventError("unknown user u404")

    await consumers(queue, [event_type], handler)
    sent = new_event(event_type, {"userId": "u404"})
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await publisher.publish(sent)
        await eventually(lambda: _ready_count(channel, dead_letter_queue(queue)), what="the DLQ")

    [dead] = await _dead_letters(channel, queue)
    assert json.loads(dead.body) == sent
    assert len(calls) == 1
    assert await _ready_count(channel, queue) == 0
    assert any(
        "unknown user u404" in r.getMessage() and sent["eventId"] in r.getMessage()
        for r in caplog.records
    )


async def test_transient_failure_is_retried_once_then_dead_lettered(
    consumers, queue_name, channel, publisher, unique_type, eventually, caplog
) -> None:
    event_type = unique_type("transient")
    queue = queue_name("transient")
    calls: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        raise RuntimeError("database is down")

    await consumers(queue, [event_type], handler)
    sent = new_event(event_type, {})
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await publisher.publish(sent)
        await eventually(lambda: _ready_count(channel, dead_letter_queue(queue)), what="the DLQ")

    assert [str(e.event_id) for e in calls] == [sent["eventId"]] * 2
    [dead] = await _dead_letters(channel, queue)
    assert json.loads(dead.body) == sent
    assert await _ready_count(channel, queue) == 0
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and sent["eventId"] in r.getMessage()
    ]
    assert [("requeueing" in r.getMessage(), r.exc_info is not None) for r in errors] == [
        (True, True),
        (False, True),
    ]
    assert "dead-lettering" in errors[1].getMessage()


async def test_failure_then_success_gets_the_message_twice_and_acks_it(
    rabbitmq_url, exchange, queue_name, channel, publisher, unique_type, eventually, fast
) -> None:
    event_type = unique_type("flaky")
    queue = queue_name("flaky")
    calls: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("blip")

    consumer = EventConsumer(rabbitmq_url, queue, [event_type], handler, exchange, **fast)
    await consumer.start()
    sent = new_event(event_type, {})
    await publisher.publish(sent)
    await eventually(lambda: len(calls) == 2, what="the redelivery")
    # Stopping returns every unacked message to the queue: none may be left.
    await consumer.stop(timeout=DEADLINE)

    assert await _ready_count(channel, queue) == 0
    assert await _ready_count(channel, dead_letter_queue(queue)) == 0
    assert [str(e.event_id) for e in calls] == [sent["eventId"]] * 2


async def test_message_is_not_acked_before_the_handler_finishes(
    rabbitmq_url, exchange, queue_name, channel, publisher, unique_type, eventually, fast
) -> None:
    event_type = unique_type("slow")
    queue = queue_name("slow")
    started = asyncio.Event()

    async def stuck_handler(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes

    consumer = EventConsumer(rabbitmq_url, queue, [event_type], stuck_handler, exchange, **fast)
    await consumer.start()
    await publisher.publish(new_event(event_type, {}))
    await asyncio.wait_for(started.wait(), DEADLINE)
    assert await _ready_count(channel, queue) == 0  # delivered, held unacked

    await consumer.stop(timeout=0.1)  # gives up on the handler: the message must come back
    await eventually(lambda: _count_is(channel, queue, 1), what="the message to be requeued")

    handled: list[Event] = []

    async def handler(event: Event) -> None:
        handled.append(event)

    second = EventConsumer(rabbitmq_url, queue, [event_type], handler, exchange, **fast)
    await second.start()
    await eventually(lambda: len(handled) == 1, what="the second consumer")
    await second.stop(timeout=DEADLINE)
    assert await _ready_count(channel, queue) == 0


async def test_stop_waits_for_running_handlers(
    rabbitmq_url, exchange, queue_name, channel, publisher, unique_type, fast
) -> None:
    event_type = unique_type("drain")
    queue = queue_name("drain")
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[Event] = []

    async def handler(event: Event) -> None:
        started.set()
        await release.wait()
        finished.append(event)

    consumer = EventConsumer(rabbitmq_url, queue, [event_type], handler, exchange, **fast)
    await consumer.start()
    await publisher.publish(new_event(event_type, {}))
    await asyncio.wait_for(started.wait(), DEADLINE)
    stopping = asyncio.create_task(consumer.stop(timeout=DEADLINE))
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, DEADLINE)
    assert len(finished) == 1
    assert await _ready_count(channel, queue) == 0


async def _count_is(channel, queue: str, expected: int) -> bool:
    return await _ready_count(channel, queue) == expected
