"""``audit.recorded`` from the other services (auth's role changes, disables, 2FA resets and
personal keys; accounting's allocations): each is written to this service's audit log once, in
one transaction with the event's inbox claim, so a redelivered event adds no second entry."""

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from bus_events import AuditRecorded, body_of
from event_bus import Event, PermanentEventError, claim_event
from provisioning import metrics
from provisioning.audit.service import Actor, record

CONSUMER = "provisioning.audit-recorded"


@dataclass
class AuditRecordedHandler:
    pool: asyncpg.Pool

    async def __call__(self, event: Event) -> None:
        try:
            entry = body_of(event, AuditRecorded)
            organization_id = _organization_id(entry.organization_id)
        except PermanentEventError:
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            await record(
                conn,
                # The event names the actor by id only; the log's username stays empty.
                Actor(entry.actor_id, None),
                entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                organization_id=organization_id,
                before=entry.before,
                after=entry.after,
                request_id=entry.request_id,
            )
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()


def _organization_id(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise PermanentEventError(f"organizationId is not a UUID: {value[:60]!r}") from None
