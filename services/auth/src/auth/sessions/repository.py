"""Every query on the refresh_tokens table."""

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    token_id: UUID,
    family_id: UUID,
    user_id: UUID,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_id, family_id, user_id, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        token_id,
        family_id,
        user_id,
        expires_at,
    )


async def lock(conn: asyncpg.Connection, token_id: UUID) -> asyncpg.Record | None:
    """The token's row, locked until the transaction ends (serialises concurrent refreshes)."""
    return await conn.fetchrow(
        "SELECT token_id, family_id, user_id, used_at, revoked_at, expires_at "
        "FROM refresh_tokens WHERE token_id = $1 FOR UPDATE",
        token_id,
    )


async def mark_used(conn: asyncpg.Connection, token_id: UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_id = $1", token_id)


async def revoke_family(conn: asyncpg.Connection, family_id: UUID) -> int:
    result = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        family_id,
    )
    return int(result.split()[-1])


async def revoke_all_for_user(conn: asyncpg.Connection, user_id: UUID) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
    )
