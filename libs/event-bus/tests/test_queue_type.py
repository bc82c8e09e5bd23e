"""A consumer's durable queues are of the type it is given: classic by default (declared as
before the setting existed), quorum for a replicated cluster (RABBITMQ_QUEUE_TYPE)."""

import asyncio

import pytest
from aio_pika.exceptions import ChannelPreconditionFailed

from event_bus import (
    BusUnavailable,
    Event,
    EventConsumer,
    dead_letter_exchange,
    dead_letter_queue,
    new_event,
)

DEADLINE = 5.0


async def _declare_again(amqp, name: str, arguments: dict[str, str]) -> None:
    """Declare ``name`` durable with ``arguments``; RabbitMQ refuses if its type differs."""
    channel = await amqp.channel()
    try:
        await channel.declare_queue(name, durable=True, arguments=arguments or None)
    finally:
        if not channel.is_closed:
            await channel.close()


def _consumer_arguments(exchange: str, queue: str) -> dict[str, str]:
    return {
        "x-dead-letter-exchange": dead_letter_exchange(exchange),
        "x-dead-letter-routing-key": queue,
    }


async def test_quorum_queues_are_declared_and_deliver(
    amqp, publisher, consumers, exchange, queue_name, unique_type
) -> None:
    queue, event_type = queue_name("quorum"), unique_type("quorum")
    received: asyncio.Queue[Event] = asyncio.Queue()

    async def handler(event: Event) -> None:
        await received.put(event)

    await consumers(queue, [event_type], handler, queue_type="quorum")
    sent = new_event(event_type, {"n": 1})
    await publisher.publish(sent)
    assert (await asyncio.wait_for(received.get(), DEADLINE)).to_dict() == sent

    quorum = {"x-queue-type": "quorum"}
    await _declare_again(amqp, queue, {**_consumer_arguments(exchange, queue), **quorum})
    await _declare_again(amqp, dead_letter_queue(queue), quorum)
    with pytest.raises(ChannelPreconditionFailed):
        await _declare_again(amqp, queue, _consumer_arguments(exchange, queue))
    with pytest.raises(ChannelPreconditionFailed):
        await _declare_again(amqp, dead_letter_queue(queue), {})


async def test_classic_is_the_default_and_declared_as_before(
    amqp, consumers, exchange, queue_name, unique_type
) -> None:
    queue = queue_name("classic")

    async def handler(event: Event) -> None:
        return None

    consumer = await consumers(queue, [unique_type("classic")], handler)
    assert consumer.queue_type == "classic"
    # Exactly the arguments it always had (no x-queue-type), so existing queues still match.
    await _declare_again(amqp, queue, _consumer_arguments(exchange, queue))
    await _declare_again(amqp, dead_letter_queue(queue), {})
    with pytest.raises(ChannelPreconditionFailed):
        await _declare_again(
            amqp, queue, {**_consumer_arguments(exchange, queue), "x-queue-type": "quorum"}
        )


async def test_a_queue_of_the_other_type_keeps_the_consumer_out(
    amqp, rabbitmq_url, exchange, queue_name, unique_type
) -> None:
    """Switching an existing deployment to quorum needs its old queues drained and deleted."""
    queue = queue_name("switch")
    await _declare_again(amqp, queue, _consumer_arguments(exchange, queue))

    async def handler(event: Event) -> None:
        return None

    consumer = EventConsumer(
        rabbitmq_url, queue, [unique_type("switch")], handler, exchange, queue_type="quorum"
    )
    # Reported like an unreachable broker: start_consumers keeps retrying and logging it, and
    # readiness says rabbitmq is degraded, until the old queue is gone.
    with pytest.raises(BusUnavailable, match="inequivalent arg 'x-queue-type'"):
        await consumer.start()
    await consumer.stop(timeout=1.0)
