"""A relay: publishes the events waiting in an outbox, with publisher confirms, until stopped.

``Relay`` works over any ``Outbox``: a store that hands out batches of its pending events,
marks what was published and counts what waits. ``outbox.PostgresOutbox`` is the
``event_outbox`` table (``OutboxRelay`` relays it); a service that keeps its events elsewhere
gives the relay a store of its own (chat keeps each usage record in the MongoDB document of its
answer, so the answer and what it owes are one write). Delivery is at least once: a crash
between the broker's confirm and the mark publishes the event again, and consumers ignore an
``eventId`` they have applied.
"""

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from background_loops import BackgroundLoop, Backoff, Failure
from event_bus.errors import EventBusError

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """What a relay needs of ``EventPublisher``."""

    async def connect(self) -> None: ...

    async def publish(self, event: dict[str, Any]) -> None: ...


class OutboxBatch(Protocol):
    """Pending events taken from an outbox, oldest first, each named by its position."""

    @property
    def events(self) -> Sequence[dict[str, Any]]: ...

    async def mark_published(self, positions: Sequence[int]) -> None: ...

    async def mark_failed(self, position: int, error: str) -> None: ...


class Outbox(Protocol):
    """Where events wait until a relay has published them."""

    def batch(self, limit: int) -> AbstractAsyncContextManager[OutboxBatch]:
        """Up to ``limit`` of the oldest pending events, to be marked inside the block."""
        ...

    async def count_pending(self) -> int: ...

    def is_outage(self, error: Exception) -> bool:
        """Whether ``error`` is the store being unreachable (expected), not a bug."""
        ...


@dataclass(frozen=True)
class BatchResult:
    published: int
    error: Exception | None = None


class Relay:
    """Publishes ``outbox`` in the background with publisher confirms, backing off while the
    broker or the store is unreachable; no failure ends it.

    ``ordered``: one event at a time, in the outbox's order, stopping at the first that fails
    (noted on it) so that nothing overtakes it. Unordered: a batch all at once, each event
    waiting for its own confirm, and whatever was confirmed marked; for events whose order
    does not matter. It logs to ``logger`` (its owner's, say), by default to this module's.
    """

    def __init__(
        self,
        outbox: Outbox,
        publisher: Publisher,
        *,
        name: str = "outbox-relay",
        ordered: bool = True,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
        stop_timeout: float = 10.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.name = name
        self.ordered = ordered
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stop_timeout = stop_timeout
        self.published_total = 0
        self._log = logger or log
        # wake() does not cut a backoff short: new work does not make an unreachable broker
        # reachable.
        self._loop = BackgroundLoop(
            name,
            self._relay_batch,
            interval=poll_interval,
            backoff=Backoff(first=initial_backoff, most=max_backoff),
            on_failure=self._report_failure,
        )

    @property
    def is_running(self) -> bool:
        return self._loop.is_running

    @property
    def consecutive_failures(self) -> int:
        return self._loop.failures

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """Publish now rather than at the next poll (call once new events are stored)."""
        self._loop.wake()

    async def stop(self) -> None:
        """Finish the batch in progress (up to ``stop_timeout``), then stop."""
        await self._loop.stop(grace=self.stop_timeout)

    async def pending_count(self) -> int:
        return await self.outbox.count_pending()

    async def publish_batch(self) -> BatchResult:
        """Publish one batch and mark what the broker confirmed. A publish that failed is
        returned with the count (its event stays pending); an error of the outbox is raised."""
        async with self.outbox.batch(self.batch_size) as batch:
            if self.ordered:
                published, error = await self._publish_in_order(batch)
            else:
                published, error = await self._publish_together(batch)
            if published:
                await batch.mark_published(published)
        self.published_total += len(published)
        return BatchResult(len(published), error)

    async def _publish_in_order(self, batch: OutboxBatch) -> tuple[list[int], Exception | None]:
        published: list[int] = []
        for position, event in enumerate(batch.events):
            try:
                await self.publisher.publish(event)
            except Exception as exc:
                # Stop here: publishing later events first would reorder the stream.
                await batch.mark_failed(position, str(exc))
                return published, exc
            published.append(position)
        return published, None

    async def _publish_together(self, batch: OutboxBatch) -> tuple[list[int], Exception | None]:
        outcomes = await asyncio.gather(
            *(self.publisher.publish(event) for event in batch.events), return_exceptions=True
        )
        published: list[int] = []
        first: Exception | None = None
        for position, outcome in enumerate(outcomes):
            if outcome is None:
                published.append(position)
            elif isinstance(outcome, Exception):
                await batch.mark_failed(position, str(outcome))
                if first is None:
                    first = outcome
            else:  # KeyboardInterrupt and the like are not a failed publish
                raise outcome
        return published, first

    async def _relay_batch(self) -> None:
        """The loop's step: an event that could not be published fails it (and backs off)."""
        await self.publisher.connect()
        result = await self.publish_batch()
        if result.error is not None:
            raise result.error
        if self.consecutive_failures:
            self._log.info("%s recovered after %d failures", self.name, self.consecutive_failures)
        if result.published == self.batch_size:
            self._loop.wake()  # more may be waiting

    async def _report_failure(self, failure: Failure) -> None:
        try:
            pending: int | str = await self.pending_count()
        except Exception:
            pending = "unknown"
        error = failure.error
        # An outage is one line; anything else is a bug and gets its traceback.
        expected = isinstance(error, EventBusError) or self.outbox.is_outage(error)
        self._log.log(
            logging.WARNING if expected else logging.ERROR,
            "%s cannot publish (%s); %s events pending, retrying in %.1fs",
            self.name,
            error,
            pending,
            failure.retry_in,
            exc_info=None if expected else error,
            extra={"error": repr(error), "pending": pending, "retryIn": failure.retry_in},
        )
