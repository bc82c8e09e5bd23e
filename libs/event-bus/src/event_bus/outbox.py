"""The transactional outbox: events are written with the business change, then relayed.

``enqueue`` inserts an event in the caller's transaction, so it exists exactly when the change
it reports was committed. ``OutboxRelay`` publishes pending rows in id order with publisher
confirms and marks them published. Delivery is at-least-once: a crash between the broker's
confirm and the commit of ``published_at`` publishes the row again, which consumers ignore by
``eventId``.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from background_loops import BackgroundLoop, Backoff, Failure
from event_bus.envelope import Event, encode_event
from event_bus.errors import EventBusError
from event_bus.publisher import EventPublisher

log = logging.getLogger(__name__)


async def enqueue(conn: asyncpg.Connection | PoolConnectionProxy, event: dict[str, Any]) -> None:
    """Add ``event`` to the outbox; call it inside the transaction that makes the change."""
    parsed = Event.from_dict(event)
    # Passed as text and cast in SQL, so a jsonb codec the caller set on conn cannot interfere.
    await conn.execute(
        "INSERT INTO event_outbox (event_id, routing_key, payload) "
        "VALUES ($1, $2, $3::text::jsonb)",
        parsed.event_id,
        parsed.type,
        encode_event(event).decode(),
    )


_SELECT_BATCH = """
SELECT id, event_id, payload::text AS payload
FROM event_outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""

_MARK_PUBLISHED = """
UPDATE event_outbox
SET published_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = ANY($1::bigint[])
"""

_MARK_FAILED = """
UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1
"""


@dataclass(frozen=True)
class BatchResult:
    published: int
    error: BaseException | None = None


class OutboxRelay:
    """Publishes the outbox in the background, backing off while the broker is unreachable.

    Several replicas may each run one: rows are claimed with ``FOR UPDATE SKIP LOCKED``, so
    each row is published by one relay. One relay publishes in id order and never skips a row
    that failed; batches claimed by different replicas may interleave on the broker.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: EventPublisher,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
        initial_backoff: float = 0.2,
        stop_timeout: float = 10.0,
    ) -> None:
        self.pool = pool
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.initial_backoff = initial_backoff
        self.stop_timeout = stop_timeout
        self.published_total = 0
        # wake() does not cut a backoff short: a commit does not make an unreachable broker
        # reachable.
        self._loop = BackgroundLoop(
            "outbox-relay",
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
        """Publish now rather than at the next poll (call after committing an enqueue)."""
        self._loop.wake()

    async def stop(self) -> None:
        """Finish the batch in progress (up to ``stop_timeout``), then stop."""
        await self._loop.stop(grace=self.stop_timeout)

    async def run_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        return (await self._publish_batch()).published

    async def pending_count(self) -> int:
        async with self.pool.acquire() as conn:
            pending = await conn.fetchval(
                "SELECT count(*) FROM event_outbox WHERE published_at IS NULL"
            )
        return int(pending)

    async def lag_seconds(self) -> float:
        """Age of the oldest unpublished event, 0 when nothing is pending."""
        async with self.pool.acquire() as conn:
            lag = await conn.fetchval(
                "SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8 "
                "FROM event_outbox WHERE published_at IS NULL"
            )
        return max(lag or 0.0, 0.0)

    async def _publish_batch(self) -> BatchResult:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_SELECT_BATCH, self.batch_size)
            published: list[int] = []
            error: BaseException | None = None
            for row in rows:
                try:
                    await self.publisher.publish(json.loads(row["payload"]))
                except EventBusError as exc:
                    # Stop here: publishing later rows first would reorder the stream.
                    error = exc
                    await conn.execute(_MARK_FAILED, row["id"], str(exc))
                    break
                published.append(row["id"])
            if published:
                await conn.execute(_MARK_PUBLISHED, published)
        self.published_total += len(published)
        return BatchResult(len(published), error)

    async def _relay_batch(self) -> None:
        """The loop's step: a row that could not be published fails it (and backs off)."""
        await self.publisher.connect()
        result = await self._publish_batch()
        if result.error is not None:
            raise result.error
        if self.consecutive_failures:
            log.info("outbox relay recovered after %d failures", self.consecutive_failures)
        if result.published == self.batch_size:
            self._loop.wake()  # more may be waiting

    async def _report_failure(self, failure: Failure) -> None:
        try:
            pending: int | str = await self.pending_count()
        except Exception:
            pending = "unknown"
        log.warning(
            "outbox relay cannot publish (%s); %s events pending, retrying in %.1fs",
            failure.error,
            pending,
            failure.retry_in,
        )
