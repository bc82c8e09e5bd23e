"""Events every replica must hear (revocations), not one of them.

Unlike ``EventConsumer``'s durable queue shared by a service's replicas, each subscriber has a
queue of its own, exclusive and deleted with its connection: what is published while it is
not connected is not kept for it. So ``on_connected`` runs after every (re)connection, for the
subscriber to read what it may have missed from the source of truth.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from event_bus.connection import open_robust_connection, redact, set_up_or_close
from event_bus.envelope import Event
from event_bus.errors import MalformedEvent
from event_bus.topology import DEFAULT_EXCHANGE

log = logging.getLogger(__name__)


class BroadcastSubscriber:
    def __init__(
        self,
        url: str,
        routing_keys: list[str],
        handler: Callable[[Event], None],
        *,
        on_connected: Callable[[], Awaitable[None]] | None = None,
        exchange: str = DEFAULT_EXCHANGE,
        connect_timeout: float = 5.0,
        reconnect_interval: float = 2.0,
    ) -> None:
        self.url = url
        self.routing_keys = list(routing_keys)
        self.handler = handler
        self.on_connected = on_connected
        self.exchange_name = exchange
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._catching_up: set[asyncio.Task[None]] = set()

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connection.connected.is_set()

    async def start(self) -> None:
        """Subscribe, then catch up; raises ``BusUnavailable`` when the broker is down."""
        if self._connection is not None:
            return
        connection = await open_robust_connection(
            self.url,
            connect_timeout=self.connect_timeout,
            reconnect_interval=self.reconnect_interval,
        )

        async def set_up() -> None:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            for routing_key in self.routing_keys:
                await queue.bind(exchange, routing_key=routing_key)
            await queue.consume(self._on_message, no_ack=True)

        await set_up_or_close(connection, set_up, timeout=self.connect_timeout, what="subscribe")
        self._connection = connection
        connection.reconnect_callbacks.add(self._reconnected)
        log.info("subscribed to %s on %s", self.routing_keys, redact(self.url))
        # Subscribed first, caught up second (in the background): nothing falls between.
        self._reconnected()

    async def stop(self) -> None:
        connection, self._connection = self._connection, None
        for task in self._catching_up:
            task.cancel()
        await asyncio.gather(*self._catching_up, return_exceptions=True)
        if connection is not None:
            await connection.close()

    def _reconnected(self, *_: object) -> None:
        task = asyncio.get_running_loop().create_task(self._catch_up())
        self._catching_up.add(task)
        task.add_done_callback(self._catching_up.discard)

    async def caught_up(self) -> None:
        """Wait for the catching up started by the last (re)connection."""
        await asyncio.gather(*self._catching_up, return_exceptions=True)

    async def _catch_up(self) -> None:
        if self.on_connected is None:
            return
        try:
            await self.on_connected()
        except Exception:
            log.exception("catching up after subscribing failed")

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = Event.from_bytes(message.body)
        except MalformedEvent as exc:
            log.warning("ignoring a malformed broadcast message: %s", exc.reason)
            return
        try:
            self.handler(event)
        except Exception:
            log.exception("broadcast handler failed", extra={"eventType": event.type})
