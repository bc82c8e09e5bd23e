"""Every query on the api_keys table."""

from datetime import datetime
from uuid import UUID

import asyncpg

_COLUMNS = (
    "id, team_id, organization_id, account_id, name, prefix, models, created_by, created_at, "
    "expires_at, revoked_at, last_used_at, replaced_by"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    key_id: UUID,
    team_id: str,
    organization_id: str | None,
    account_id: UUID,
    name: str,
    prefix: str,
    key_hash: str,
    models: list[str] | None,
    created_by: str,
    expires_at: datetime | None,
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO api_keys (id, team_id, account_id, name, prefix, key_hash, models,
                              created_by, expires_at, organization_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {_COLUMNS}
        """,
        key_id,
        team_id,
        account_id,
        name,
        prefix,
        key_hash,
        models,
        created_by,
        expires_at,
        organization_id,
    )


async def usable_by_hash(conn: asyncpg.Connection, key_hash: str) -> asyncpg.Record | None:
    """The key if it is neither revoked nor expired (a rotated key expires at its grace end)."""
    return await conn.fetchrow(
        f"""
        UPDATE api_keys SET last_used_at = now()
        WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        RETURNING {_COLUMNS}
        """,
        key_hash,
    )


async def by_id(conn: asyncpg.Connection, key_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1", key_id)


async def for_team(conn: asyncpg.Connection, team_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE team_id = $1 ORDER BY created_at, id", team_id
    )


async def revoke(conn: asyncpg.Connection, key_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 "
        f"RETURNING {_COLUMNS}",
        key_id,
    )


async def retire(
    conn: asyncpg.Connection, key_id: UUID, until: datetime, replaced_by: UUID
) -> None:
    """The old key of a rotation keeps working until ``until``, then expires."""
    await conn.execute(
        "UPDATE api_keys SET expires_at = least(coalesce(expires_at, $2), $2), replaced_by = $3 "
        "WHERE id = $1",
        key_id,
        until,
        replaced_by,
    )


async def revoke_for_organization(
    conn: asyncpg.Connection, organization_id: str
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"UPDATE api_keys SET revoked_at = now() "
        f"WHERE organization_id = $1 AND revoked_at IS NULL RETURNING {_COLUMNS}",
        organization_id,
    )
