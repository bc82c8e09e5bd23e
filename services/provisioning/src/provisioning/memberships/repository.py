"""Every query on memberships."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from provisioning.database import Connection
from provisioning.memberships.schemas import OrgRole

_COLUMNS = "organization_id, user_id, username, email, role, added_by, created_at"


@dataclass(frozen=True)
class Member:
    organization_id: UUID
    user_id: str
    username: str
    email: str
    role: OrgRole
    added_by: str
    created_at: datetime


def _member(record: asyncpg.Record) -> Member:
    return Member(
        organization_id=record["organization_id"],
        user_id=record["user_id"],
        username=record["username"],
        email=record["email"],
        role=record["role"],
        added_by=record["added_by"],
        created_at=record["created_at"],
    )


async def role_of(conn: Connection, org_id: UUID, user_id: str) -> OrgRole | None:
    role: OrgRole | None = await conn.fetchval(
        "SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2",
        org_id,
        user_id,
    )
    return role


async def insert(
    conn: Connection,
    *,
    org_id: UUID,
    user_id: str,
    username: str,
    email: str,
    role: OrgRole,
    added_by: str,
) -> Member | None:
    """The new membership, or None when the user already is a member."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO memberships (organization_id, user_id, username, email, role, added_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT DO NOTHING
        RETURNING {_COLUMNS}
        """,
        org_id,
        user_id,
        username,
        email,
        role,
        added_by,
    )
    return None if record is None else _member(record)


async def of_org(conn: Connection, org_id: UUID) -> list[Member]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM memberships WHERE organization_id = $1 ORDER BY created_at",
        org_id,
    )
    return [_member(record) for record in records]


async def one(conn: Connection, org_id: UUID, user_id: str) -> Member | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM memberships WHERE organization_id = $1 AND user_id = $2",
        org_id,
        user_id,
    )
    return None if record is None else _member(record)


async def owners_locked(conn: Connection, org_id: UUID) -> int:
    """How many owners the organization has, with their rows locked (last-owner checks race)."""
    records = await conn.fetch(
        "SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
        org_id,
    )
    return len(records)


async def delete(conn: Connection, org_id: UUID, user_id: str) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2", org_id, user_id
    )
