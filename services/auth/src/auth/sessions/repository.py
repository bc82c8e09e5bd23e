"""Every query on the refresh_tokens table, and the row it returns."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from auth.database import Connection


@dataclass(frozen=True, slots=True)
class RefreshSession:
    """One refresh token issued; its family is the chain rotated from one login."""

    token_id: UUID
    family_id: UUID
    user_id: UUID
    used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


async def insert(
    conn: Connection,
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


async def lock(conn: Connection, token_id: UUID) -> RefreshSession | None:
    """The token's row, locked until the transaction ends (serialises concurrent refreshes)."""
    row = await conn.fetchrow(
        "SELECT token_id, family_id, user_id, used_at, revoked_at, expires_at "
        "FROM refresh_tokens WHERE token_id = $1 FOR UPDATE",
        token_id,
    )
    return None if row is None else RefreshSession(**row)


async def mark_used(conn: Connection, token_id: UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_id = $1", token_id)


async def revoke_family(conn: Connection, family_id: UUID) -> int:
    """Revoke the family's tokens not revoked yet; how many that was."""
    result = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        family_id,
    )
    return int(result.split()[-1])


async def revoke_all_for_user(conn: Connection, user_id: UUID) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
    )
