"""Starting a service's consumers without making its start-up wait for the broker."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from event_bus.consumer import EventConsumer
from event_bus.errors import BusUnavailable

log = logging.getLogger(__name__)


class Startable(Protocol):
    """An ``EventConsumer`` or a ``BroadcastSubscriber``."""

    @property
    def is_connected(self) -> bool: ...

    async def start(self) -> None: ...


async def start_consumers(consumers: Sequence[Startable], retry_seconds: float = 2.0) -> None:
    """Start each consumer, retrying while the broker is unreachable; run it as a task."""
    pending = list(consumers)
    while pending:
        try:
            await pending[0].start()
            pending.pop(0)
        except BusUnavailable as exc:
            log.warning("bus unavailable; consumers will retry", extra={"error": repr(exc)})
            await asyncio.sleep(retry_seconds)


def consumers_connected(consumers: Sequence[Startable]) -> Callable[[], Awaitable[None]]:
    """A readiness check that fails while any consumer is not connected to the broker."""

    async def check() -> None:
        if not all(consumer.is_connected for consumer in consumers):
            raise ConnectionError("bus consumers not connected")

    return check


def consumers_declared(consumers: Sequence[Startable]) -> Callable[[], bool]:
    """Whether every durable consumer has declared its queue once, so that the events published
    from then on wait there for it through a broker outage. (A broadcast subscriber has no such
    queue: it catches up from the source of truth when it reconnects.)"""

    def declared() -> bool:
        return all(c.has_declared for c in consumers if isinstance(c, EventConsumer))

    return declared
