"""The transactional outbox: events are written with the business change, then relayed.

``enqueue`` inserts an event in the caller's transaction, so it exists exactly when the change
it reports was committed. ``OutboxRelay`` (``relay.Relay`` over ``PostgresOutbox``) publishes
pending rows in id order with publisher confirms and marks them published. Delivery is
at-least-once: a crash between the broker's confirm and the commit of ``published_at``
publishes the row again, which consumers ignore by ``eventId``.
"""

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from event_bus.envelope import Event, encode_event
from event_bus.publisher import EventPublisher
from event_bus.relay import Relay
from pg_migrations import Connection

log = logging.getLogger(__name__)


async def enqueue(conn: Connection, event: dict[str, Any]) -> None:
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

# asyncpg's errors for a connection that was refused, lost or shut down (the socket's own
# errors arrive as OSError).
_POSTGRES_OUTAGES: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


@dataclass(frozen=True)
class _ClaimedRows:
    """A batch of outbox rows, locked by the transaction on ``conn`` until it ends."""

    conn: Connection
    ids: list[int]
    events: list[dict[str, Any]]

    async def mark_published(self, positions: Sequence[int]) -> None:
        await self.conn.execute(_MARK_PUBLISHED, [self.ids[p] for p in positions])

    async def mark_failed(self, position: int, error: str) -> None:
        await self.conn.execute(_MARK_FAILED, self.ids[position], error)


class PostgresOutbox:
    """The ``event_outbox`` table (``MIGRATIONS``) as a relay's ``Outbox``. A batch is claimed
    with ``FOR UPDATE SKIP LOCKED`` and marked in the same transaction: relays of several
    replicas each publish rows no other one holds, and a relay stuck on a slow broker holds
    up no other."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def batch(self, limit: int) -> AsyncIterator[_ClaimedRows]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_SELECT_BATCH, limit)
            ids = [row["id"] for row in rows]
            yield _ClaimedRows(conn, ids, [json.loads(row["payload"]) for row in rows])

    async def count_pending(self) -> int:
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

    def is_outage(self, error: Exception) -> bool:
        return isinstance(error, _POSTGRES_OUTAGES)


class OutboxRelay(Relay):
    """The relay of the ``event_outbox`` table, in id order.

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
        self.table = PostgresOutbox(pool)
        super().__init__(
            self.table,
            publisher,
            name="outbox-relay",
            ordered=True,
            batch_size=batch_size,
            poll_interval=poll_interval,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            stop_timeout=stop_timeout,
            logger=log,
        )

    async def run_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published (a row that
        could not be published stays pending, its attempt and error noted)."""
        return (await self.publish_batch()).published

    async def lag_seconds(self) -> float:
        return await self.table.lag_seconds()
