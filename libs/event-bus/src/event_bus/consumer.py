"""Consuming events from a durable queue with at-least-once delivery and dead-lettering."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import ChannelInvalidStateError
from pamqp.commands import Basic

from event_bus.connection import open_robust_connection, redact, set_up_or_close
from event_bus.dead_letters import dead_letter_copy
from event_bus.envelope import Event
from event_bus.errors import MalformedEvent, PermanentEventError, TransientEventError
from event_bus.retry import RetryPolicy
from event_bus.topology import (
    DEFAULT_EXCHANGE,
    QueueType,
    dead_letter_exchange,
    dead_letter_queue,
    queue_type_arguments,
)

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[None]]
# Which exceptions of a handler are transient: classes, or a predicate for a closer look.
TransientErrors = tuple[type[BaseException], ...] | Callable[[BaseException], bool]
DEFAULT_RETRY = RetryPolicy()


class EventConsumer:
    """Delivers the events matching ``routing_keys`` to ``handler``, one task per message.

    A message is acked only once the handler has returned; until then it is held unacked, so
    if the process dies the broker delivers it again. When the handler fails:

    * ``TransientEventError``, or an exception ``transient`` accepts (a database connection
      failing): run again after a backoff (``retry``: 0.5 s doubling to 30 s) for as long as
      it keeps failing that way; such an event is never dead-lettered.
    * ``PermanentEventError``, or a malformed message: dead-lettered at once.
    * any other exception: run again with the same backoff, and dead-lettered once the
      handler has failed ``retry.max_attempts`` times.

    A dead letter goes to ``<queue>.dlq`` with its reason in its headers (``dead_letters.py``).
    Both queues are of ``queue_type`` (``classic``, or ``quorum`` for a replicated cluster).
    """

    def __init__(
        self,
        url: str,
        queue: str,
        routing_keys: list[str],
        handler: EventHandler,
        exchange: str = DEFAULT_EXCHANGE,
        prefetch: int = 16,
        *,
        transient: TransientErrors = (),
        retry: RetryPolicy = DEFAULT_RETRY,
        connect_timeout: float = 5.0,
        reconnect_interval: float = 2.0,
        queue_type: QueueType = "classic",
    ) -> None:
        self.url = url
        self.queue_type = queue_type
        self.queue_name = queue
        self.routing_keys = list(routing_keys)
        self.handler = handler
        self.exchange_name = exchange
        self.prefetch = prefetch
        self.transient = transient
        self.retry = retry
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._queue: AbstractQueue | None = None
        self._dead_letters: AbstractExchange | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self._stopping = asyncio.Event()
        self._declared = False

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connection.connected.is_set()

    @property
    def has_declared(self) -> bool:
        """Whether its durable queue exists: events published since wait there for it."""
        return self._declared

    async def start(self) -> None:
        """Declare the topology and start consuming; raises ``BusUnavailable`` on failure."""
        if self._connection is not None:
            return
        self._stopping.clear()
        connection = await open_robust_connection(
            self.url,
            connect_timeout=self.connect_timeout,
            reconnect_interval=self.reconnect_interval,
        )

        async def set_up() -> tuple[AbstractQueue, AbstractExchange, str]:
            channel: AbstractRobustChannel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await self._declare_topology(channel)
            # Dead letters are published with confirms, on a channel of their own, before the
            # original is acked: a dead letter is never lost between the two.
            confirming = await connection.channel(publisher_confirms=True)
            dead_letters = await confirming.declare_exchange(
                dead_letter_exchange(self.exchange_name), aio_pika.ExchangeType.DIRECT, durable=True
            )
            consumer_tag = await queue.consume(self._on_message)
            return queue, dead_letters, consumer_tag

        self._queue, self._dead_letters, self._consumer_tag = await set_up_or_close(
            connection, set_up, timeout=self.connect_timeout, what="consumer set-up"
        )
        self._connection = connection
        self._declared = True
        log.info(
            "consuming %s from queue %s on %s",
            self.routing_keys,
            self.queue_name,
            redact(self.url),
        )

    async def _declare_topology(self, channel: AbstractRobustChannel) -> AbstractQueue:
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx_name = dead_letter_exchange(self.exchange_name)
        dlx = await channel.declare_exchange(dlx_name, aio_pika.ExchangeType.DIRECT, durable=True)
        typed = queue_type_arguments(self.queue_type)
        dlq = await channel.declare_queue(
            dead_letter_queue(self.queue_name), durable=True, arguments=typed or None
        )
        await dlq.bind(dlx, routing_key=self.queue_name)
        # The broker's own dead-lettering stays as the fallback for a dead letter whose copy
        # could not be published (it then arrives without its reason).
        queue = await channel.declare_queue(
            self.queue_name,
            durable=True,
            arguments={
                "x-dead-letter-exchange": dlx_name,
                "x-dead-letter-routing-key": self.queue_name,
                **typed,
            },
        )
        for routing_key in self.routing_keys:
            await queue.bind(exchange, routing_key=routing_key)
        return queue

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, let running handlers finish (up to ``timeout``), disconnect.

        Events waiting to be retried are given up at once, and handlers still running after
        ``timeout`` are cancelled; their messages were not acked, so the broker delivers them
        again.
        """
        connection, self._connection = self._connection, None
        if connection is None:
            return
        self._stopping.set()
        queue, tag = self._queue, self._consumer_tag
        self._queue = self._consumer_tag = None
        if queue is not None and tag is not None and connection.connected.is_set():
            try:
                async with asyncio.timeout(min(timeout, 2.0)):
                    await queue.cancel(tag)
            except Exception:
                log.warning("could not cancel the consumer of %s cleanly", self.queue_name)
        if self._in_flight:
            _, still_running = await asyncio.wait(self._in_flight, timeout=timeout)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        await connection.close()
        self._dead_letters = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._process(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            event = Event.from_bytes(message.body)
        except MalformedEvent as exc:
            log.warning(
                "dead-lettering malformed message %s from queue %s: %s",
                message.message_id,
                self.queue_name,
                exc.reason,
            )
            await self._dead_letter(message, f"malformed: {exc.reason}", exc, attempts=0)
            return
        await self._handle(message, event)

    async def _handle(self, message: AbstractIncomingMessage, event: Event) -> None:
        what = f"event {event.event_id} ({event.type}) from queue {self.queue_name}"
        attempts = transient_failures = other_failures = 0
        while True:
            attempts += 1
            try:
                await self.handler(event)
            except PermanentEventError as exc:
                log.warning("dead-lettering %s, handler refused it: %s", what, exc)
                await self._dead_letter(message, str(exc), exc, attempts)
                return
            except Exception as exc:
                if self._is_transient(exc):
                    transient_failures += 1
                    delay = self.retry.delay(transient_failures)
                    # Expected while a store is down, and the same every time: one line.
                    log.warning("%s failed transiently (%r); retrying in %.1fs", what, exc, delay)
                else:
                    other_failures += 1
                    if other_failures >= self.retry.max_attempts:
                        log.error(
                            "dead-lettering %s: handler failed %d times",
                            what,
                            other_failures,
                            exc_info=exc,
                        )
                        await self._dead_letter(message, str(exc) or repr(exc), exc, attempts)
                        return
                    delay = self.retry.delay(other_failures)
                    log.error(
                        "handler failed for %s (attempt %d of %d); retrying in %.1fs",
                        what,
                        other_failures,
                        self.retry.max_attempts,
                        delay,
                        exc_info=exc,
                    )
                if not await self._wait_to_retry(message, delay, what):
                    return
            else:
                await self._settle(message.ack(), message)
                return

    def _is_transient(self, exc: BaseException) -> bool:
        if isinstance(exc, TransientEventError):
            return True
        if isinstance(self.transient, tuple):
            return isinstance(exc, self.transient)
        return self.transient(exc)

    async def _wait_to_retry(
        self, message: AbstractIncomingMessage, delay: float, what: str
    ) -> bool:
        """Sleep ``delay``; False when the message should be left to the broker instead."""
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            pass
        else:
            log.info("consumer stopping; %s will be delivered again", what)
            return False
        if not _still_held(message):
            # The channel went away (a broker restart): the broker has requeued the message
            # and delivers it again, on the new channel, to this consumer or another.
            log.info("channel lost; %s will be delivered again", what)
            return False
        return True

    async def _dead_letter(
        self, message: AbstractIncomingMessage, reason: str, exc: BaseException, attempts: int
    ) -> None:
        copy = dead_letter_copy(
            message,
            queue=self.queue_name,
            reason=reason,
            error_type=type(exc).__name__,
            attempts=attempts,
        )
        exchange = self._dead_letters
        try:
            if exchange is None:
                raise RuntimeError("the consumer is not started")
            async with asyncio.timeout(self.connect_timeout):
                confirmation = await exchange.publish(copy, routing_key=self.queue_name)
            if not isinstance(confirmation, Basic.Ack):
                raise RuntimeError(f"broker did not ack the dead letter: {confirmation!r}")
        except Exception as failure:
            log.warning(
                "could not dead-letter message %s from queue %s with its reason (%r); "
                "rejecting it to the DLQ without",
                message.message_id,
                self.queue_name,
                failure,
            )
            await self._settle(message.reject(requeue=False), message)
            return
        await self._settle(message.ack(), message)

    async def _settle(self, settlement: Awaitable[None], message: AbstractIncomingMessage) -> None:
        try:
            await settlement
        except Exception as exc:
            # The channel went away: the broker requeues the unsettled message by itself.
            log.warning(
                "could not settle message %s from queue %s (%r); it will be redelivered",
                message.message_id,
                self.queue_name,
                exc,
            )


def _still_held(message: AbstractIncomingMessage) -> bool:
    """Whether the channel the message came on is open, so that it can still be acked."""
    try:
        message.channel  # noqa: B018 (the property raises once the channel is closed)
    except ChannelInvalidStateError:
        return False
    return True
