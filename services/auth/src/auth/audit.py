"""Administrative actions, published as ``audit.recorded`` for provisioning's audit log.

Call ``record`` in the transaction that makes the change: the event goes through the outbox,
so the trail never shows a change that was rolled back, nor misses one that was committed.
"""

from pydantic import JsonValue

from auth.database import Connection
from bus_events import AuditRecorded, event_of
from event_bus import enqueue
from service_kit import request_id_var


async def record(
    conn: Connection,
    actor_id: str,
    action: str,
    *,
    target_type: str,
    target_id: str,
    before: JsonValue = None,
    after: JsonValue = None,
) -> None:
    entry = AuditRecorded(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        request_id=request_id_var.get() or "-",
    )
    await enqueue(conn, event_of(entry))
