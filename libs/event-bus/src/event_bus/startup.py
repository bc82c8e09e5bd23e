"""Starting a service's consumers without making its start-up wait for the broker."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from event_bus.consumer import EventConsumer
from event_bus.errors import BusUnavailable

log = logging.getLogger(__name__)


async def start_consumers(consumers: list[EventConsumer], retry_seconds: float = 2.0) -> None:
    """Start each consumer, retrying while the broker is unreachable; run it as a task."""
    pending = list(consumers)
    while pending:
        try:
            await pending[0].start()
            pending.pop(0)
        except BusUnavailable as exc:
            log.warning("bus unavailable; consumers will retry", extra={"error": repr(exc)})
            await asyncio.sleep(retry_seconds)


def consumers_connected(consumers: list[EventConsumer]) -> Callable[[], Awaitable[None]]:
    """A readiness check that fails while any consumer is not connected to the broker."""

    async def check() -> None:
        if not all(consumer.is_connected for consumer in consumers):
            raise ConnectionError("bus consumers not connected")

    return check
