import asyncio
import itertools
import json
import logging
import time

import aio_pika
import pytest

from event_bus import (
    Event,
    EventConsumer,
    PermanentEventError,
    RetryPolicy,
    TransientEventError,
    dead_letter_queue,
    new_event,
)

DEADLINE = 5.0
FAST = {"connect_timeout": 2.0, "reconnect_interval": 0.1}
FAST_RETRY = RetryPolicy(initial_delay=0.05, max_delay=0.2, max_attempts=3)


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
    assert dead.headers["x-error-type"] == "MalformedEvent"
    assert reason in dead.headers["x-error-reason"]
    assert dead.headers["x-original-queue"] == queue
    assert dead.headers["x-attempts"] == 0
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
    assert dead.message_id == sent["eventId"]
    assert dead.headers["x-error-type"] == "PermanentEventError"
    assert dead.headers["x-error-reason"] == "unknown user u404"
    assert dead.headers["x-attempts"] == 1
    assert dead.headers["x-failed-at"].endswith("Z")
    assert len(calls) == 1
    assert await _ready_count(channel, queue) == 0
    assert any(
        "unknown user u404" in r.getMessage() and sent["eventId"] in r.getMessage()
        for r in caplog.records
    )


async def test_unknown_error_is_retried_with_backoff_then_dead_lettered_after_the_bound(
    consumers, queue_name, channel, publisher, unique_type, eventually, caplog
) -> None:
    event_type = unique_type("unknown")
    queue = queue_name("unknown")
    calls: list[float] = []

    async def handler(event: Event) -> None:
        calls.append(time.monotonic())
        raise RuntimeError("a bug in the handler")

    await consumers(queue, [event_type], handler, retry=FAST_RETRY)
    sent = new_event(event_type, {})
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await publisher.publish(sent)
        await eventually(lambda: _ready_count(channel, dead_letter_queue(queue)), what="the DLQ")

    assert len(calls) == FAST_RETRY.max_attempts
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= FAST_RETRY.initial_delay * 0.9
    assert gaps[1] >= gaps[0] * 1.5  # doubling
    [dead] = await _dead_letters(channel, queue)
    assert json.loads(dead.body) == sent
    assert dead.headers["x-error-type"] == "RuntimeError"
    assert dead.headers["x-error-reason"] == "a bug in the handler"
    assert dead.headers["x-attempts"] == FAST_RETRY.max_attempts
    assert dead.headers["x-original-queue"] == queue
    assert await _ready_count(channel, queue) == 0
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and sent["eventId"] in r.getMessage()
    ]
    assert [("retrying" in r.getMessage(), r.exc_info is not None) for r in errors] == [
        (True, True),
        (True, True),
        (False, True),
    ]
    assert "dead-lettering" in errors[-1].getMessage()


@pytest.mark.parametrize(
    "transient",
    [
        pytest.param((OSError,), id="classes"),
        pytest.param(lambda exc: isinstance(exc, OSError), id="predicate"),
        pytest.param((), id="TransientEventError"),
    ],
)
async def test_a_transient_failure_is_retried_until_it_succeeds_and_never_dead_lettered(
    transient,
    rabbitmq_url,
    exchange,
    queue_name,
    channel,
    publisher,
    unique_type,
    eventually,
    caplog,
) -> None:
    event_type = unique_type("outage")
    queue = queue_name("outage")
    failures = FAST_RETRY.max_attempts * 3  # far past the bound of unexpected errors
    calls: list[Event] = []
    applied: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        if len(calls) <= failures:
            if transient == ():
                raise TransientEventError("accounts table unreachable")
            raise ConnectionRefusedError(111, "Connect call failed")
        applied.append(event)

    consumer = EventConsumer(
        rabbitmq_url,
        queue,
        [event_type],
        handler,
        exchange,
        transient=transient,
        retry=FAST_RETRY,
        **FAST,
    )
    await consumer.start()
    sent = new_event(event_type, {})
    with caplog.at_level(logging.WARNING, logger="event_bus"):
        await publisher.publish(sent)
        await eventually(lambda: len(applied) == 1, timeout=10, what="the event to be applied")
        await consumer.stop(timeout=DEADLINE)

    assert len(calls) == failures + 1
    assert [str(e.event_id) for e in applied] == [sent["eventId"]]
    assert await _ready_count(channel, queue) == 0
    assert await _ready_count(channel, dead_letter_queue(queue)) == 0
    lines = [r for r in caplog.records if sent["eventId"] in r.getMessage()]
    assert len(lines) == failures
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in lines)
    assert all("failed transiently" in r.getMessage() for r in lines)


async def test_transient_failures_do_not_count_towards_the_bound(
    consumers, queue_name, channel, publisher, unique_type, eventually
) -> None:
    event_type = unique_type("mixed")
    queue = queue_name("mixed")
    calls: list[Event] = []
    applied: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        if len(calls) % 2:  # every other attempt an outage, else a bug, twice each
            if len(calls) < 5:
                raise TransientEventError("down")
        elif len(calls) < 5:
            raise KeyError("flaky bug")
        applied.append(event)

    await consumers(queue, [event_type], handler, retry=FAST_RETRY)
    await publisher.publish(new_event(event_type, {}))
    await eventually(lambda: len(applied) == 1, what="the event to be applied")
    assert len(calls) == 5
    assert await _ready_count(channel, dead_letter_queue(queue)) == 0


async def test_stopping_gives_up_a_retry_at_once_and_the_broker_keeps_the_message(
    rabbitmq_url, exchange, queue_name, channel, publisher, unique_type, eventually, fast
) -> None:
    event_type = unique_type("stop-retry")
    queue = queue_name("stop-retry")
    failed = asyncio.Event()

    async def failing(event: Event) -> None:
        failed.set()
        raise TransientEventError("down")

    slow = RetryPolicy(initial_delay=30, max_delay=30)
    consumer = EventConsumer(
        rabbitmq_url, queue, [event_type], failing, exchange, retry=slow, **fast
    )
    await consumer.start()
    await publisher.publish(new_event(event_type, {}))
    await asyncio.wait_for(failed.wait(), DEADLINE)
    started = time.monotonic()
    await consumer.stop(timeout=DEADLINE)
    assert time.monotonic() - started < 2
    await eventually(lambda: _count_is(channel, queue, 1), what="the message to be requeued")
    assert await _ready_count(channel, dead_letter_queue(queue)) == 0


async def test_a_retry_whose_channel_was_lost_is_delivered_again_and_applied_once(
    rabbitmq_proxy, exchange, queue_name, channel, publisher, unique_type, eventually, fast
) -> None:
    proxy, proxied_url = rabbitmq_proxy
    event_type = unique_type("lost-channel")
    queue = queue_name("lost-channel")
    store_up = asyncio.Event()
    calls: list[Event] = []
    applied: list[Event] = []

    async def handler(event: Event) -> None:
        calls.append(event)
        if not store_up.is_set():
            raise TransientEventError("down")
        applied.append(event)

    consumer = EventConsumer(
        proxied_url, queue, [event_type], handler, exchange, retry=FAST_RETRY, **fast
    )
    await consumer.start()
    try:
        await publisher.publish(new_event(event_type, {}))
        await eventually(lambda: len(calls) >= 2, what="retries")
        await proxy.cut()
        await asyncio.sleep(0.3)
        await proxy.restore()
        await eventually(lambda: consumer.is_connected, what="the reconnection")
        store_up.set()
        await eventually(lambda: len(applied) >= 1, what="the event to be applied")
        await asyncio.sleep(0.3)  # a stale retry of the lost delivery would show up here
    finally:
        await consumer.stop(timeout=DEADLINE)
    assert len(applied) == 1
    assert await _ready_count(channel, queue) == 0
    assert await _ready_count(channel, dead_letter_queue(queue)) == 0


async def test_a_dead_letter_that_cannot_be_published_is_rejected_to_the_dlq_without_reason(
    consumers, queue_name, channel, publisher, unique_type, eventually
) -> None:
    event_type = unique_type("fallback")
    queue = queue_name("fallback")

    async def handler(event: Event) -> None:
        raise PermanentEventError("refused")

    consumer = await consumers(queue, [event_type], handler)
    consumer._dead_letters = None  # as if its confirming channel were gone
    sent = new_event(event_type, {})
    await publisher.publish(sent)
    await eventually(lambda: _ready_count(channel, dead_letter_queue(queue)), what="the DLQ")
    [dead] = await _dead_letters(channel, queue)
    assert json.loads(dead.body) == sent
    assert "x-error-reason" not in dead.headers
    assert dead.headers["x-death"][0]["reason"] == "rejected"


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
