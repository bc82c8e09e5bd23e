"""Recording administrative actions: who, what, when, before and after.

Every entry is written in the same transaction as the change it describes, so the log never
claims a change that was rolled back, nor misses one that was committed.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel

from jwt_contract import Principal
from provisioning import metrics
from provisioning.audit import repository
from provisioning.audit.repository import NewAuditEntry
from provisioning.database import Connection
from service_kit.request_context import request_id_var


@dataclass(frozen=True)
class Actor:
    id: str
    username: str | None

    @classmethod
    def of(cls, principal: Principal) -> "Actor":
        return cls(principal.user_id, principal.username)


SYSTEM = Actor("system", "system")


async def record(
    conn: Connection,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str | UUID,
    organization_id: UUID | None = None,
    before: Any = None,
    after: Any = None,
    request_id: str | None = None,
) -> None:
    """``request_id`` defaults to the current request's (an event carries its own)."""
    entry = NewAuditEntry(
        actor_id=actor.id,
        actor_username=actor.username,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        organization_id=organization_id,
        before=_json(before),
        after=_json(after),
        request_id=request_id or request_id_var.get(),
    )
    await repository.insert(conn, entry)
    metrics.AUDIT_ENTRIES.labels(action).inc()


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    return orjson.dumps(value, default=str).decode()
