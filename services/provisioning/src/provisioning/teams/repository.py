"""Every query on teams."""

from uuid import UUID

import asyncpg

_COLUMNS = "id, organization_id, name, model_groups, account_id, created_by, created_at"


async def name_taken(conn: asyncpg.Connection, org_id: UUID, name: str) -> bool:
    return await conn.fetchval(
        "SELECT EXISTS "
        "(SELECT 1 FROM teams WHERE organization_id = $1 AND lower(name) = lower($2))",
        org_id,
        name,
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    team_id: UUID,
    org_id: UUID,
    name: str,
    model_groups: list[str],
    account_id: UUID,
    by: str,
) -> asyncpg.Record:
    """Raises UniqueViolationError when the organization has a team of that name."""
    return await conn.fetchrow(
        f"""
        INSERT INTO teams (id, organization_id, name, model_groups, account_id, created_by)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}
        """,
        team_id,
        org_id,
        name,
        model_groups,
        account_id,
        by,
    )


async def by_id(conn: asyncpg.Connection, team_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM teams WHERE id = $1", team_id)


async def of_org(conn: asyncpg.Connection, org_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM teams WHERE organization_id = $1 ORDER BY created_at", org_id
    )
