"""Publishes the usage records stored with answers to RabbitMQ (the MongoDB outbox)."""

import asyncio
import logging
from typing import Any, Protocol

from pymongo.errors import PyMongoError

from chat.sessions import repository
from event_bus import EventBusError

log = logging.getLogger(__name__)

BATCH = 100  # records published together


class Publisher(Protocol):
    """What the relay needs of ``event_bus.EventPublisher``."""

    async def connect(self) -> None: ...

    async def publish(self, event: dict[str, Any]) -> None: ...


class UsageRelay:
    """Delivery is at least once: a crash between the broker's confirm and marking the
    record published sends it again, and accounting ignores an ``eventId`` it has applied.

    Outages of MongoDB or the broker are waited out (retried with backoff up to
    ``max_backoff``); no failure ends the relay."""

    def __init__(
        self,
        db: repository.Database,
        publisher: Publisher,
        *,
        poll_interval: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._poll = poll_interval
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-relay")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run_once(self) -> int:
        """Publish a batch of what is pending, oldest first, all at once (each waits for its
        own confirm), then mark the confirmed ones in one write. Raises the first failure
        after marking what did get through."""
        pending = await repository.pending_usage(self._db, limit=BATCH)
        if not pending:
            return 0
        await self._publisher.connect()
        outcomes = await asyncio.gather(
            *(self._publisher.publish(record.usage.event) for record in pending),
            return_exceptions=True,
        )
        confirmed = [
            record.id for record, outcome in zip(pending, outcomes, strict=True) if not outcome
        ]
        if confirmed:
            await repository.mark_usage_published(self._db, confirmed)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(confirmed)

    async def pending_count(self) -> int:
        return await repository.count_pending_usage(self._db)

    async def _run(self) -> None:
        backoff = self._poll
        while True:
            # Cleared before the run: an answer stored meanwhile wakes the next one.
            self._wake.clear()
            try:
                if await self.run_once() == BATCH:
                    continue  # more may be waiting
                backoff = self._poll
            except (EventBusError, PyMongoError, OSError) as exc:
                pending = await self._safe_pending()
                log.warning(
                    "usage relay cannot publish; will retry",
                    extra={"error": repr(exc), "pending": pending, "retryIn": backoff},
                )
                backoff = min(backoff * 2, self._max_backoff)
            except Exception:  # not an outage: still no reason to stop relaying for good
                log.exception("usage relay failed; will retry", extra={"retryIn": backoff})
                backoff = min(backoff * 2, self._max_backoff)
            try:
                await asyncio.wait_for(self._wake.wait(), backoff)
            except TimeoutError:
                pass

    async def _safe_pending(self) -> int | None:
        try:
            return await self.pending_count()
        except (PyMongoError, OSError):
            return None
