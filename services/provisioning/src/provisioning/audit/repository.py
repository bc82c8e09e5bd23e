"""Every query on the audit log."""

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert(conn: asyncpg.Connection, **entry) -> None:
    await conn.execute(
        """
        INSERT INTO audit_log (actor_id, actor_username, action, target_type, target_id,
                               organization_id, before, after, request_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)
        """,
        entry["actor_id"],
        entry["actor_username"],
        entry["action"],
        entry["target_type"],
        entry["target_id"],
        entry["organization_id"],
        entry["before"],
        entry["after"],
        entry["request_id"],
    )


async def page(
    conn: asyncpg.Connection,
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
) -> tuple[list[asyncpg.Record], int]:
    """Newest first. ``actor`` matches an actor's id or username; ``action`` a prefix with '*'."""
    where, args = [], []

    def arg(value) -> str:
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
    total = await conn.fetchval(f"SELECT count(*) FROM audit_log {clause}", *args)
    rows = await conn.fetch(
        f"""
        SELECT id, at, actor_id, actor_username, action, target_type, target_id,
               organization_id, before, after, request_id
        FROM audit_log {clause}
        ORDER BY at DESC, id DESC
        OFFSET {arg(offset)} LIMIT {arg(limit)}
        """,
        *args,
    )
    return rows, total
