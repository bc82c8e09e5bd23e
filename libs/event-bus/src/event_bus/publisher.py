"""Confirmed, persistent publishing to the topic exchange."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection
from pamqp.commands import Basic

from event_bus.connection import open_robust_connection, redact, set_up_or_close
from event_bus.envelope import Event, encode_event
from event_bus.errors import PublishFailed
from event_bus.topology import DEFAULT_EXCHANGE

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(
        self,
        url: str,
        exchange: str = DEFAULT_EXCHANGE,
        *,
        connect_timeout: float = 5.0,
        confirm_timeout: float = 5.0,
        reconnect_interval: float = 2.0,
    ) -> None:
        self.url = url
        self.exchange_name = exchange
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self.reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._connect_lock = asyncio.Lock()

    async def connect(self) -> None:
        """Connect and declare the exchange; raises ``BusUnavailable`` (retry later) on failure.

        Does nothing when already connected. After the first success the connection recovers
        from broker restarts by itself.
        """
        async with self._connect_lock:
            if self._connection is not None:
                return
            connection = await open_robust_connection(
                self.url,
                connect_timeout=self.connect_timeout,
                reconnect_interval=self.reconnect_interval,
            )

            async def set_up() -> tuple[AbstractRobustChannel, AbstractExchange]:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await channel.declare_exchange(
                    self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
                return channel, exchange

            self._channel, self._exchange = await set_up_or_close(
                connection, set_up, timeout=self.connect_timeout, what="publisher set-up"
            )
            self._connection = connection
            log.info("event publisher connected to %s", redact(self.url))

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None:
            await connection.close()

    @property
    def is_connected(self) -> bool:
        return (
            self._connection is not None
            and self._channel is not None
            and self._connection.connected.is_set()
            and not self._channel.is_closed
        )

    async def ping(self, timeout: float = 2.0) -> bool:
        """Whether the broker answers right now (re-declares the exchange: a no-op round trip)."""
        exchange = self._exchange
        if exchange is None or not self.is_connected:
            return False
        try:
            async with asyncio.timeout(timeout):
                await exchange.declare()
        except Exception:
            return False
        return True

    async def publish(self, event: dict[str, Any]) -> None:
        """Publish ``event`` (routing key = its type) and wait for the broker's confirm.

        Raises ``MalformedEvent`` for an invalid envelope and ``PublishFailed`` when the broker
        does not confirm (nack, timeout, no connection).
        """
        parsed = Event.from_dict(event)
        message = aio_pika.Message(
            body=encode_event(event),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(parsed.event_id),
            content_type="application/json",
            type=parsed.type,
            timestamp=datetime.now(UTC),
        )
        exchange = self._exchange
        if exchange is None or not self.is_connected:
            raise PublishFailed(f"not connected to RabbitMQ, event {parsed.event_id} not sent")
        try:
            # Unroutable messages are dropped, not returned: a confirm is all we wait for. The
            # outer timeout also bounds waiting for a channel that is being re-established.
            async with asyncio.timeout(self.confirm_timeout):
                confirmation = await exchange.publish(
                    message, routing_key=parsed.type, mandatory=False
                )
        except TimeoutError as exc:
            raise PublishFailed(
                f"no confirm for event {parsed.event_id} within {self.confirm_timeout}s"
            ) from exc
        except Exception as exc:
            raise PublishFailed(f"publishing event {parsed.event_id} failed: {exc!r}") from exc
        if not isinstance(confirmation, Basic.Ack):
            raise PublishFailed(f"broker did not ack event {parsed.event_id}: {confirmation!r}")
