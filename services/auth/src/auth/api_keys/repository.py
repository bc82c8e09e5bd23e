"""Every query on the api_keys table."""

from datetime import datetime
from uuid import UUID

import asyncpg

_COLUMNS = (
    "id, team_id, organization_id, account_id, user_id, name, prefix, models, "
    "requests_per_minute, tokens_per_minute, created_by, created_at, expires_at, revoked_at, "
    "last_used_at, replaced_by"
)
_LIVE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"


async def insert(
    conn: asyncpg.Connection,
    *,
    key_id: UUID,
    team_id: str | None,
    organization_id: str | None,
    account_id: UUID | None,
    name: str,
    prefix: str,
    key_hash: str,
    models: list[str] | None,
    created_by: str,
    expires_at: datetime | None,
    user_id: UUID | None = None,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
) -> asyncpg.Record:
    """A team's key (``team_id``, ``account_id``) or a user's (``user_id``), never both."""
    return await conn.fetchrow(
        f"""
        INSERT INTO api_keys (id, team_id, account_id, name, prefix, key_hash, models,
                              created_by, expires_at, organization_id, user_id,
                              requests_per_minute, tokens_per_minute)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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
        user_id,
        requests_per_minute,
        tokens_per_minute,
    )


async def usable_by_hash(conn: asyncpg.Connection, key_hash: str) -> asyncpg.Record | None:
    """The key if it is neither revoked nor expired (a rotated key expires at its grace end)
    and, for a personal key, its owner is not disabled; with the owner's ``owner_username``,
    ``owner_email`` and ``owner_token_version`` (null for a team key)."""
    return await conn.fetchrow(
        f"""
        WITH used AS (
            UPDATE api_keys k SET last_used_at = now()
            WHERE key_hash = $1 AND {_LIVE}
              AND (user_id IS NULL
                   OR EXISTS (SELECT 1 FROM users u WHERE u.id = k.user_id AND NOT u.disabled))
            RETURNING {_COLUMNS}
        )
        SELECT used.*, owner.username AS owner_username, owner.email AS owner_email,
               owner.token_version AS owner_token_version
        FROM used LEFT JOIN users owner ON owner.id = used.user_id
        """,
        key_hash,
    )


async def team_key_by_id(conn: asyncpg.Connection, key_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1 AND team_id IS NOT NULL", key_id
    )


async def for_team(conn: asyncpg.Connection, team_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE team_id = $1 ORDER BY created_at, id", team_id
    )


async def revoke_team_key(conn: asyncpg.Connection, key_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
        f"WHERE id = $1 AND team_id IS NOT NULL RETURNING {_COLUMNS}",
        key_id,
    )


async def revoke_personal_key(
    conn: asyncpg.Connection, key_id: UUID, user_id: UUID
) -> asyncpg.Record | None:
    """None unless the key is ``user_id``'s own: another's key is as unknown as a missing one."""
    return await conn.fetchrow(
        f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
        f"WHERE id = $1 AND user_id = $2 RETURNING {_COLUMNS}",
        key_id,
        user_id,
    )


async def live_for_user(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = $1 AND {_LIVE} "
        f"ORDER BY created_at DESC, id",
        user_id,
    )


async def count_live_for_user(conn: asyncpg.Connection, user_id: UUID) -> int:
    return await conn.fetchval(
        f"SELECT count(*) FROM api_keys WHERE user_id = $1 AND {_LIVE}", user_id
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
