"""Reading and replaying a dead-letter queue (``bus-dlq``, see ``dlq_cli.py``)."""

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from pamqp.commands import Basic

from event_bus.dead_letters import DeadLetter, replay_copy
from event_bus.errors import PublishFailed
from event_bus.topology import dead_letter_queue

DEFAULT_TIMEOUT = 5.0


def dlq_name(queue: str) -> str:
    """The DLQ of ``queue``; a name that already is a DLQ's is kept."""
    suffix = dead_letter_queue("")
    return queue if queue.endswith(suffix) else dead_letter_queue(queue)


async def list_dead_letters(
    url: str, queue: str, *, limit: int | None = None, timeout: float = DEFAULT_TIMEOUT
) -> list[DeadLetter]:
    """The dead letters of ``queue`` (or of that DLQ), oldest first; all are left in place."""
    dlq = dlq_name(queue)
    connection = await aio_pika.connect(url, timeout=timeout)
    async with connection:
        channel = await connection.channel()
        source, waiting = await _open(channel, dlq)
        held: list[AbstractIncomingMessage] = []
        for _ in range(_bound(waiting, limit)):
            message = await source.get(no_ack=False, fail=False, timeout=timeout)
            if message is None:
                break
            held.append(message)
        if held:
            # Held unacked while reading, so none is read twice; all go back now, in order.
            await held[-1].nack(multiple=True, requeue=True)
    return [DeadLetter.of(message, dlq) for message in held]


async def replay_dead_letters(
    url: str, queue: str, *, limit: int | None = None, timeout: float = DEFAULT_TIMEOUT
) -> list[DeadLetter]:
    """Put the dead letters of ``queue`` back on the queue each came from, oldest first.

    Each is republished (with confirms) before it is removed from the DLQ, so none is lost; a
    consumer that deduplicates by ``eventId`` ignores one it had applied after all. Only the
    letters there when the replay starts are replayed: one failing again at once comes back to
    the DLQ without being replayed a second time.
    """
    dlq = dlq_name(queue)
    connection = await aio_pika.connect(url, timeout=timeout)
    replayed: list[DeadLetter] = []
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        source, waiting = await _open(channel, dlq)
        for _ in range(_bound(waiting, limit)):
            message = await source.get(no_ack=False, fail=False, timeout=timeout)
            if message is None:
                break
            letter = DeadLetter.of(message, dlq)
            try:
                # The default exchange routes by queue name: to that queue and no other.
                confirmation = await channel.default_exchange.publish(
                    replay_copy(message),
                    routing_key=letter.original_queue,
                    mandatory=True,
                    timeout=timeout,
                )
                if not isinstance(confirmation, Basic.Ack):
                    raise PublishFailed(f"broker did not ack: {confirmation!r}")
            except Exception as exc:
                await message.nack(requeue=True)
                raise PublishFailed(
                    f"could not replay event {letter.event_id} to queue "
                    f"{letter.original_queue}: {exc!r}; it stays in {dlq}"
                ) from exc
            await message.ack()
            replayed.append(letter)
    return replayed


async def _open(channel: AbstractChannel, dlq: str) -> tuple[AbstractQueue, int]:
    queue = await channel.declare_queue(dlq, passive=True)
    return queue, queue.declaration_result.message_count or 0


def _bound(waiting: int, limit: int | None) -> int:
    return waiting if limit is None else min(waiting, limit)
