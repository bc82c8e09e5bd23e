"""Consuming events from a durable queue with at-least-once delivery and dead-lettering."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from event_bus.connection import open_robust_connection, redact, set_up_or_close
from event_bus.envelope import Event
from event_bus.errors import MalformedEvent, PermanentEventError
from event_bus.topology import DEFAULT_EXCHANGE, dead_letter_exchange, dead_letter_queue

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[None]]


class EventConsumer:
    """Delivers the events matching ``routing_keys`` to ``handler``, one task per message.

    A message is acked only once the handler has returned. A malformed message, or one whose
    handler raises ``PermanentEventError``, goes straight to ``<queue>.dlq``; any other
    exception requeues the message once, and dead-letters it if it fails again.
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
        connect_timeout: float = 5.0,
        reconnect_interval: float = 2.0,
    ) -> None:
        self.url = url
        self.queue_name = queue
        self.routing_keys = list(routing_keys)
        self.handler = handler
        self.exchange_name = exchange
        self.prefetch = prefetch
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[object]] = set()

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connection.connected.is_set()

    async def start(self) -> None:
        """Declare the topology and start consuming; raises ``BusUnavailable`` on failure."""
        if self._connection is not None:
            return
        connection = await open_robust_connection(
            self.url,
            connect_timeout=self.connect_timeout,
            reconnect_interval=self.reconnect_interval,
        )

        async def set_up() -> tuple[AbstractQueue, str]:
            channel: AbstractRobustChannel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await self._declare_topology(channel)
            consumer_tag = await queue.consume(self._on_message)
            return queue, consumer_tag

        self._queue, self._consumer_tag = await set_up_or_close(
            connection, set_up, timeout=self.connect_timeout, what="consumer set-up"
        )
        self._connection = connection
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
        dlq = await channel.declare_queue(dead_letter_queue(self.queue_name), durable=True)
        await dlq.bind(dlx, routing_key=self.queue_name)
        queue = await channel.declare_queue(
            self.queue_name,
            durable=True,
            arguments={
                "x-dead-letter-exchange": dlx_name,
                "x-dead-letter-routing-key": self.queue_name,
            },
        )
        for routing_key in self.routing_keys:
            await queue.bind(exchange, routing_key=routing_key)
        return queue

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, let running handlers finish (up to ``timeout``), disconnect.

        Handlers still running after ``timeout`` are cancelled; their messages were not acked,
        so the broker delivers them again.
        """
        connection, self._connection = self._connection, None
        if connection is None:
            return
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
            await self._settle(message.reject(requeue=False), message)
            return

        try:
            await self.handler(event)
        except PermanentEventError as exc:
            log.warning(
                "dead-lettering event %s (%s) from queue %s, handler refused it: %s",
                event.event_id,
                event.type,
                self.queue_name,
                exc,
            )
            await self._settle(message.reject(requeue=False), message)
        except Exception:
            if message.redelivered:
                log.exception(
                    "dead-lettering event %s (%s) from queue %s: handler failed again "
                    "on redelivery",
                    event.event_id,
                    event.type,
                    self.queue_name,
                )
                await self._settle(message.reject(requeue=False), message)
            else:
                log.exception(
                    "handler failed for event %s (%s) from queue %s; requeueing it once",
                    event.event_id,
                    event.type,
                    self.queue_name,
                )
                await self._settle(message.nack(requeue=True), message)
        else:
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
