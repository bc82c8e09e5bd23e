"""``bus-dlq``: listing a DLQ leaves it as it was; replaying puts each dead letter back on its
own queue (and no other) and removes it from the DLQ."""

import asyncio
import json

import aio_pika
import pytest

from event_bus import (
    Event,
    PermanentEventError,
    dead_letter_queue,
    list_dead_letters,
    new_event,
    replay_dead_letters,
)
from event_bus.dlq_cli import main

DEADLINE = 5.0


async def run_cli(*argv: str) -> int:
    """The command as a shell runs it: its own event loop (so off this test's)."""
    return await asyncio.to_thread(main, list(argv))


async def _count(channel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


@pytest.fixture
def dead_lettered(consumers, queue_name, publisher, channel, unique_type, eventually):
    """Dead-letters ``n`` fresh events through a consumer that refuses them; returns the queue,
    the events and the consumer (stopped, so that a replay stays in the queue)."""

    async def make(n: int, label: str = "dlq"):
        event_type = unique_type(label)
        queue = queue_name(label)

        async def refuse(event: Event) -> None:
            raise PermanentEventError(f"no account for {event.body['userId']}")

        consumer = await consumers(queue, [event_type], refuse)
        events = [new_event(event_type, {"userId": f"u{i}"}) for i in range(n)]
        for event in events:
            await publisher.publish(event)

        async def all_dead() -> bool:
            return await _count(channel, dead_letter_queue(queue)) == n

        await eventually(all_dead, what="the dead letters")
        await consumer.stop(timeout=DEADLINE)
        return queue, events

    return make


async def test_list_shows_each_dead_letter_and_leaves_them_all(
    dead_lettered, rabbitmq_url, channel
) -> None:
    queue, events = await dead_lettered(3)

    letters = await list_dead_letters(rabbitmq_url, queue)
    again = await list_dead_letters(rabbitmq_url, dead_letter_queue(queue), limit=2)

    assert [letter.event_id for letter in letters] == [e["eventId"] for e in events]
    assert {letter.type for letter in letters} == {events[0]["type"]}
    assert [letter.reason for letter in letters] == [f"no account for u{i}" for i in range(3)]
    assert {letter.error_type for letter in letters} == {"PermanentEventError"}
    assert all(letter.failed_at.endswith("Z") for letter in letters)
    assert {letter.original_queue for letter in letters} == {queue}
    assert [letter.event_id for letter in again] == [e["eventId"] for e in events[:2]]
    assert await _count(channel, dead_letter_queue(queue)) == 3


async def test_the_command_prints_id_type_time_and_reason(
    dead_lettered, rabbitmq_url, monkeypatch, capsys
) -> None:
    queue, events = await dead_lettered(1, "dlq-cli")
    monkeypatch.setenv("RABBITMQ_URL", rabbitmq_url)

    assert await run_cli("list", queue) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["EVENT", "ID", "TYPE", "FAILED", "AT", "ATTEMPTS", "REASON"]
    row = out[1]
    assert events[0]["eventId"] in row
    assert events[0]["type"] in row
    assert "PermanentEventError: no account for u0" in row
    assert out[-1] == f"1 dead letter(s) in {dead_letter_queue(queue)}"


async def test_replay_puts_them_back_on_their_queue_only_and_empties_the_dlq(
    dead_lettered, rabbitmq_url, channel, make_tap
) -> None:
    queue, events = await dead_lettered(2, "dlq-replay")
    # Another queue bound to the same events: a replay must not reach it.
    tap = await make_tap(events[0]["type"], base="dlq-bystander")

    replayed = await replay_dead_letters(rabbitmq_url, queue)

    assert [letter.event_id for letter in replayed] == [e["eventId"] for e in events]
    assert await _count(channel, dead_letter_queue(queue)) == 0
    source = await channel.declare_queue(queue, passive=True)
    back = [await source.get(no_ack=True, timeout=DEADLINE) for _ in events]
    assert [json.loads(m.body) for m in back] == events
    assert [m.message_id for m in back] == [e["eventId"] for e in events]
    assert all("x-error-reason" not in (m.headers or {}) for m in back)
    assert await tap.count() == 0


async def test_replay_stops_at_the_limit(dead_lettered, rabbitmq_url, channel, monkeypatch, capsys):
    queue, events = await dead_lettered(3, "dlq-limit")

    assert await run_cli("replay", queue, "--limit", "1", "--url", rabbitmq_url) == 0

    assert capsys.readouterr().out.splitlines()[-1] == (
        f"replayed 1 dead letter(s) from {dead_letter_queue(queue)}"
    )
    assert await _count(channel, dead_letter_queue(queue)) == 2
    assert await _count(channel, queue) == 1
    left = await list_dead_letters(rabbitmq_url, queue)
    assert [letter.event_id for letter in left] == [e["eventId"] for e in events[1:]]


async def test_replay_to_a_queue_that_is_gone_keeps_the_dead_letter(
    rabbitmq_url, channel, queue_name, capsys
) -> None:
    queue = queue_name("dlq-orphan")
    dlq = await channel.declare_queue(dead_letter_queue(queue), durable=True)
    event = new_event("test.orphan", {})
    await channel.default_exchange.publish(
        aio_pika.Message(
            json.dumps(event).encode(),
            message_id=event["eventId"],
            headers={"x-error-reason": "boom", "x-original-queue": f"{queue}.nowhere"},
        ),
        routing_key=dlq.name,
    )

    assert await run_cli("replay", queue, "--url", rabbitmq_url) == 1

    assert "stays in" in capsys.readouterr().err
    assert await _count(channel, dlq.name) == 1


async def test_a_message_the_broker_dead_lettered_itself_is_listed_from_its_x_death(
    rabbitmq_url, channel, exchange, queue_name, consumers, unique_type, eventually
) -> None:
    event_type = unique_type("dlq-x-death")
    queue = queue_name("dlq-x-death")
    consumer = await consumers(queue, [event_type], lambda event: asyncio.sleep(0))
    await consumer.stop(timeout=DEADLINE)  # declares the topology, then gets out of the way
    topic = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    event = new_event(event_type, {})
    await topic.publish(
        aio_pika.Message(json.dumps(event).encode(), message_id=event["eventId"]),
        routing_key=event_type,
    )
    source = await channel.declare_queue(queue, passive=True)
    message = await source.get(timeout=DEADLINE)
    await message.reject(requeue=False)
    await eventually(lambda: _count(channel, dead_letter_queue(queue)), what="the DLQ")

    [letter] = await list_dead_letters(rabbitmq_url, queue)

    assert letter.event_id == event["eventId"]
    assert letter.reason == "rejected"
    assert letter.original_queue == queue
    assert letter.failed_at.endswith("Z")


def test_without_a_broker_url_the_command_says_so(monkeypatch, capsys) -> None:
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    assert main(["list", "accounting.usage-recorded"]) == 2
    assert "RABBITMQ_URL" in capsys.readouterr().err
