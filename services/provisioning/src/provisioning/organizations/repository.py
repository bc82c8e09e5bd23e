"""Every query on organizations."""

import uuid
from uuid import UUID

import asyncpg

_COLUMNS = "o.id, o.slug, o.name, o.owner_id, o.created_at, o.updated_at"


async def slug_taken(conn: asyncpg.Connection, slug: str) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = $1)", slug)


async def insert(
    conn: asyncpg.Connection, *, slug: str, name: str, owner_id: str
) -> asyncpg.Record:
    """Raises UniqueViolationError when the slug is taken."""
    return await conn.fetchrow(
        f"""
        INSERT INTO organizations AS o (id, slug, name, owner_id) VALUES ($1, $2, $3, $4)
        RETURNING {_COLUMNS}
        """,
        uuid.uuid4(),
        slug,
        name,
        owner_id,
    )


async def live(conn: asyncpg.Connection, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM organizations o WHERE o.id = $1 AND o.deleted_at IS NULL", org_id
    )


async def for_member(conn: asyncpg.Connection, user_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS}, m.role FROM organizations o
        JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1
        WHERE o.deleted_at IS NULL ORDER BY o.created_at
        """,
        user_id,
    )


async def every_live(conn: asyncpg.Connection, user_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS}, m.role FROM organizations o
        LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1
        WHERE o.deleted_at IS NULL ORDER BY o.created_at
        """,
        user_id,
    )


async def rename(conn: asyncpg.Connection, org_id: UUID, name: str) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        UPDATE organizations AS o SET name = $2, updated_at = now() WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        org_id,
        name,
    )


async def soft_delete(conn: asyncpg.Connection, org_id: UUID) -> None:
    await conn.execute(
        "UPDATE organizations SET deleted_at = now(), updated_at = now() WHERE id = $1", org_id
    )
