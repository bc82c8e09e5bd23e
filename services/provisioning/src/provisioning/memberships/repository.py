"""Every query on memberships."""

from uuid import UUID

import asyncpg

_COLUMNS = "organization_id, user_id, username, email, role, added_by, created_at"


async def role_of(conn: asyncpg.Connection, org_id: UUID, user_id: str) -> str | None:
    return await conn.fetchval(
        "SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2",
        org_id,
        user_id,
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    org_id: UUID,
    user: dict,
    role: str,
    added_by: str,
) -> asyncpg.Record | None:
    """The new membership, or None when the user already is a member."""
    return await conn.fetchrow(
        f"""
        INSERT INTO memberships (organization_id, user_id, username, email, role, added_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT DO NOTHING
        RETURNING {_COLUMNS}
        """,
        org_id,
        str(user["id"]),
        user["username"],
        user["email"],
        role,
        added_by,
    )


async def of_org(conn: asyncpg.Connection, org_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM memberships WHERE organization_id = $1 ORDER BY created_at",
        org_id,
    )


async def one(conn: asyncpg.Connection, org_id: UUID, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM memberships WHERE organization_id = $1 AND user_id = $2",
        org_id,
        user_id,
    )


async def owners_locked(conn: asyncpg.Connection, org_id: UUID) -> int:
    """How many owners the organization has, with their rows locked (last-owner checks race)."""
    rows = await conn.fetch(
        "SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
        org_id,
    )
    return len(rows)


async def delete(conn: asyncpg.Connection, org_id: UUID, user_id: str) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2", org_id, user_id
    )
