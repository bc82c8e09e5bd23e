"""Every query on the audit log."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from provisioning.database import Connection


@dataclass(frozen=True)
class NewAuditEntry:
    actor_id: str
    actor_username: str | None
    action: str
    target_type: str
    target_id: str
    organization_id: UUID | None
    before: str | None  # JSON text
    after: str | None
    request_id: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: str
    actor_username: str | None
    action: str
    target_type: str
    target_id: str
    organization_id: UUID | None
    before: Any  # the JSON stored, decoded (None when there was nothing)
    after: Any
    request_id: str | None


def _entry(record: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        id=record["id"],
        at=record["at"],
        actor_id=record["actor_id"],
        actor_username=record["actor_username"],
        action=record["action"],
        target_type=record["target_type"],
        target_id=record["target_id"],
        organization_id=record["organization_id"],
        before=_decoded(record["before"]),
        after=_decoded(record["after"]),
        request_id=record["request_id"],
    )


def _decoded(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


async def insert(conn: Connection, entry: NewAuditEntry) -> None:
    await conn.execute(
        """
        INSERT INTO audit_log (actor_id, actor_username, action, target_type, target_id,
                               organization_id, before, after, request_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)
        """,
        entry.actor_id,
        entry.actor_username,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.organization_id,
        entry.before,
        entry.after,
        entry.request_id,
    )


async def page(
    conn: Connection,
    *,
    actor: str | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    organization_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[AuditEntry], int]:
    """Newest first, and how many match. ``actor`` matches an actor's id or username;
    ``action`` a prefix when it ends with '*'."""
    where: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if actor:
        where.append(f"(actor_id = {arg(actor)} OR lower(actor_username) = lower(${len(args)}))")
    if action:
        if action.endswith("*"):
            prefix = action[:-1].replace("\\", "").replace("%", "").replace("_", "\\_")
            where.append(f"action LIKE {arg(prefix + '%')}")
        else:
            where.append(f"action = {arg(action)}")
    if target_type:
        where.append(f"target_type = {arg(target_type)}")
    if target_id:
        where.append(f"target_id = {arg(target_id)}")
    if organization_id:
        where.append(f"organization_id = {arg(organization_id)}")
    if since:
        where.append(f"at >= {arg(since)}")
    if until:
        where.append(f"at < {arg(until)}")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total: int = await conn.fetchval(f"SELECT count(*) FROM audit_log {clause}", *args)
    records = await conn.fetch(
        f"""
        SELECT id, at, actor_id, actor_username, action, target_type, target_id,
               organization_id, before, after, request_id
        FROM audit_log {clause}
        ORDER BY at DESC, id DESC
        OFFSET {arg(offset)} LIMIT {arg(limit)}
        """,
        *args,
    )
    return [_entry(record) for record in records], total
