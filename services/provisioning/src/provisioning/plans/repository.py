"""Every query on plans and their versions."""

import uuid
from datetime import datetime
from uuid import UUID

import asyncpg

_PLAN = "id, name, is_default, created_at"
_VERSION = (
    "plan_id, version, monthly_micro, requests_per_minute, model_groups, effective_from, "
    "created_by, created_at"
)


async def insert_plan(
    conn: asyncpg.Connection, *, name: str, is_default: bool, by: str
) -> asyncpg.Record:
    """Raises UniqueViolationError when the name is taken."""
    if is_default:
        await conn.execute("UPDATE plans SET is_default = false WHERE is_default")
    return await conn.fetchrow(
        f"INSERT INTO plans (id, name, is_default, created_by) VALUES ($1, $2, $3, $4) "
        f"RETURNING {_PLAN}",
        uuid.uuid4(),
        name,
        is_default,
        by,
    )


async def insert_version(
    conn: asyncpg.Connection,
    plan_id: UUID,
    *,
    monthly_micro: int,
    requests_per_minute: int,
    model_groups: list[str],
    effective_from: datetime,
    by: str,
) -> asyncpg.Record:
    """The next version; the caller holds the plan's row lock (``locked``)."""
    return await conn.fetchrow(
        f"""
        INSERT INTO plan_versions (plan_id, version, monthly_micro, requests_per_minute,
                                   model_groups, effective_from, created_by)
        SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6
        FROM plan_versions WHERE plan_id = $1
        RETURNING {_VERSION}
        """,
        plan_id,
        monthly_micro,
        requests_per_minute,
        model_groups,
        effective_from,
        by,
    )


async def locked(conn: asyncpg.Connection, plan_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE id = $1 FOR UPDATE", plan_id)


async def rename(conn: asyncpg.Connection, plan_id: UUID, name: str) -> asyncpg.Record:
    return await conn.fetchrow(
        f"UPDATE plans SET name = $2 WHERE id = $1 RETURNING {_PLAN}", plan_id, name
    )


async def by_id(conn: asyncpg.Connection, plan_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE id = $1", plan_id)


async def every(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {_PLAN} FROM plans ORDER BY created_at")


async def default_plan(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE is_default")


async def by_name(conn: asyncpg.Connection, name: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE lower(name) = lower($1)", name)


async def make_default(conn: asyncpg.Connection, plan_id: UUID) -> None:
    await conn.execute("UPDATE plans SET is_default = false WHERE is_default AND id <> $1", plan_id)
    await conn.execute("UPDATE plans SET is_default = true WHERE id = $1", plan_id)


async def versions(conn: asyncpg.Connection, plan_ids: list[UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_VERSION} FROM plan_versions WHERE plan_id = ANY($1::uuid[]) "
        "ORDER BY plan_id, version",
        plan_ids,
    )


async def version_in_force(conn: asyncpg.Connection, plan_id: UUID) -> asyncpg.Record | None:
    """The newest version already effective (a later version number wins a tie)."""
    return await conn.fetchrow(
        f"""
        SELECT {_VERSION} FROM plan_versions
        WHERE plan_id = $1 AND effective_from <= now()
        ORDER BY effective_from DESC, version DESC LIMIT 1
        """,
        plan_id,
    )


async def assignment(conn: asyncpg.Connection, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT plan_id, assigned_at FROM plan_assignments WHERE user_id = $1", user_id
    )
