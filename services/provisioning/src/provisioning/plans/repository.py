"""Every query on plans, their versions and who is on which."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from provisioning.database import Connection

_PLAN = "id, name, is_default, created_at"
_VERSION = (
    "plan_id, version, monthly_micro, requests_per_minute, model_groups, effective_from, "
    "created_by, created_at"
)


@dataclass(frozen=True)
class Plan:
    id: UUID
    name: str
    is_default: bool  # new users get it
    created_at: datetime


@dataclass(frozen=True)
class PlanVersion:
    """A plan's terms from ``effective_from`` on; versions are never changed."""

    plan_id: UUID
    version: int
    monthly_micro: int  # the monthly grant, in micro-credits
    requests_per_minute: int
    model_groups: list[str]  # empty: no restriction
    effective_from: datetime
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class PlanAssignment:
    plan_id: UUID
    assigned_at: datetime


def _plan(record: asyncpg.Record) -> Plan:
    return Plan(
        id=record["id"],
        name=record["name"],
        is_default=record["is_default"],
        created_at=record["created_at"],
    )


def _plan_or_none(record: asyncpg.Record | None) -> Plan | None:
    return None if record is None else _plan(record)


def _version(record: asyncpg.Record) -> PlanVersion:
    return PlanVersion(
        plan_id=record["plan_id"],
        version=record["version"],
        monthly_micro=record["monthly_micro"],
        requests_per_minute=record["requests_per_minute"],
        model_groups=list(record["model_groups"]),
        effective_from=record["effective_from"],
        created_by=record["created_by"],
        created_at=record["created_at"],
    )


async def insert_plan(conn: Connection, *, name: str, is_default: bool, by: str) -> Plan:
    """Raises UniqueViolationError when the name is taken."""
    if is_default:
        await conn.execute("UPDATE plans SET is_default = false WHERE is_default")
    record = await conn.fetchrow(
        f"INSERT INTO plans (id, name, is_default, created_by) VALUES ($1, $2, $3, $4) "
        f"RETURNING {_PLAN}",
        uuid.uuid4(),
        name,
        is_default,
        by,
    )
    assert record is not None  # INSERT ... RETURNING without ON CONFLICT returns its row
    return _plan(record)


async def insert_version(
    conn: Connection,
    plan_id: UUID,
    *,
    monthly_micro: int,
    requests_per_minute: int,
    model_groups: list[str],
    effective_from: datetime,
    by: str,
) -> PlanVersion:
    """The next version; the caller holds the plan's row lock (``locked``)."""
    record = await conn.fetchrow(
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
    assert record is not None  # an aggregate without GROUP BY is always one row
    return _version(record)


async def locked(conn: Connection, plan_id: UUID) -> Plan | None:
    record = await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE id = $1 FOR UPDATE", plan_id)
    return _plan_or_none(record)


async def rename(conn: Connection, plan_id: UUID, name: str) -> Plan:
    """The caller holds the plan's row lock (``locked``), so the plan exists."""
    record = await conn.fetchrow(
        f"UPDATE plans SET name = $2 WHERE id = $1 RETURNING {_PLAN}", plan_id, name
    )
    assert record is not None
    return _plan(record)


async def by_id(conn: Connection, plan_id: UUID) -> Plan | None:
    return _plan_or_none(await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE id = $1", plan_id))


async def every(conn: Connection) -> list[Plan]:
    records = await conn.fetch(f"SELECT {_PLAN} FROM plans ORDER BY created_at")
    return [_plan(record) for record in records]


async def default_plan(conn: Connection) -> Plan | None:
    return _plan_or_none(await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE is_default"))


async def by_name(conn: Connection, name: str) -> Plan | None:
    record = await conn.fetchrow(f"SELECT {_PLAN} FROM plans WHERE lower(name) = lower($1)", name)
    return _plan_or_none(record)


async def make_default(conn: Connection, plan_id: UUID) -> None:
    await conn.execute("UPDATE plans SET is_default = false WHERE is_default AND id <> $1", plan_id)
    await conn.execute("UPDATE plans SET is_default = true WHERE id = $1", plan_id)


async def versions(conn: Connection, plan_ids: list[UUID]) -> list[PlanVersion]:
    """Oldest first, plan by plan."""
    records = await conn.fetch(
        f"SELECT {_VERSION} FROM plan_versions WHERE plan_id = ANY($1::uuid[]) "
        "ORDER BY plan_id, version",
        plan_ids,
    )
    return [_version(record) for record in records]


async def version_in_force(conn: Connection, plan_id: UUID) -> PlanVersion | None:
    """The newest version already effective (a later version number wins a tie)."""
    record = await conn.fetchrow(
        f"""
        SELECT {_VERSION} FROM plan_versions
        WHERE plan_id = $1 AND effective_from <= now()
        ORDER BY effective_from DESC, version DESC LIMIT 1
        """,
        plan_id,
    )
    return None if record is None else _version(record)


async def assignment(conn: Connection, user_id: str) -> PlanAssignment | None:
    record = await conn.fetchrow(
        "SELECT plan_id, assigned_at FROM plan_assignments WHERE user_id = $1", user_id
    )
    return None if record is None else PlanAssignment(record["plan_id"], record["assigned_at"])


async def reassign(
    conn: Connection, *, user_id: str, username: str, plan_id: UUID, source: str
) -> tuple[PlanAssignment | None, PlanAssignment]:
    """Put the user on the plan, whatever plan they were on: (the one before, the new one)."""
    before = await conn.fetchrow(
        "SELECT plan_id, assigned_at FROM plan_assignments WHERE user_id = $1 FOR UPDATE",
        user_id,
    )
    record = await conn.fetchrow(
        """
        INSERT INTO plan_assignments (user_id, username, plan_id, source) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id) DO UPDATE
            SET plan_id = EXCLUDED.plan_id, username = EXCLUDED.username,
                source = EXCLUDED.source, assigned_at = now()
        RETURNING plan_id, assigned_at
        """,
        user_id,
        username,
        plan_id,
        source,
    )
    assert record is not None  # an upsert always returns its row
    previous = None if before is None else PlanAssignment(before["plan_id"], before["assigned_at"])
    return previous, PlanAssignment(record["plan_id"], record["assigned_at"])
