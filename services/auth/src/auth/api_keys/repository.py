"""Every query on the api_keys table, and the rows it returns."""

from dataclasses import dataclass, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from auth.database import Connection


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A team's key (``team_id`` and ``account_id``) or a user's (``user_id``), never both.

    Only the key's SHA-256 is stored, and it is never read back.
    """

    id: UUID
    team_id: str | None
    organization_id: str | None
    account_id: UUID | None
    user_id: UUID | None
    name: str
    prefix: str
    models: list[str] | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    max_budget_micro: int | None  # personal keys only; enforced by accounting
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaced_by: UUID | None


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """The user a personal key acts as, as they are now."""

    username: str
    email: str
    token_version: int


@dataclass(frozen=True, slots=True)
class RevokedKey:
    key: ApiKey
    revoked_at: datetime  # the key's own revoked_at, which revoking has just set


@dataclass(frozen=True, slots=True)
class UsableKey:
    key: ApiKey
    holder: KeyHolder | None  # None for a team key


_FIELDS = tuple(field.name for field in fields(ApiKey))
_COLUMNS = ", ".join(_FIELDS)
_LIVE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(**{name: row[name] for name in _FIELDS})


def _key_or_none(row: asyncpg.Record | None) -> ApiKey | None:
    return None if row is None else _key(row)


def _revoked(row: asyncpg.Record) -> RevokedKey:
    return RevokedKey(_key(row), row["revoked_at"])


def _revoked_or_none(row: asyncpg.Record | None) -> RevokedKey | None:
    return None if row is None else _revoked(row)


async def insert(
    conn: Connection,
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
    max_budget_micro: int | None = None,
) -> ApiKey:
    """A team's key (``team_id``, ``account_id``) or a user's (``user_id``), never both."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO api_keys (id, team_id, account_id, name, prefix, key_hash, models,
                              created_by, expires_at, organization_id, user_id,
                              requests_per_minute, tokens_per_minute, max_budget_micro)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
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
        max_budget_micro,
    )
    assert row is not None  # an INSERT ... RETURNING answers its row or raises
    return _key(row)


async def usable_by_hash(conn: Connection, key_hash: str) -> UsableKey | None:
    """The key if it is neither revoked nor expired (a rotated key expires at its grace end)
    and, for a personal key, its owner is not disabled; with that owner as they are now."""
    row = await conn.fetchrow(
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
    if row is None:
        return None
    holder = (
        None
        if row["user_id"] is None
        else KeyHolder(row["owner_username"], row["owner_email"], row["owner_token_version"])
    )
    return UsableKey(_key(row), holder)


async def team_key_by_id(conn: Connection, key_id: UUID) -> ApiKey | None:
    return _key_or_none(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1 AND team_id IS NOT NULL", key_id
        )
    )


async def for_team(conn: Connection, team_id: str) -> list[ApiKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE team_id = $1 ORDER BY created_at, id", team_id
    )
    return [_key(row) for row in rows]


async def revoke_team_key(conn: Connection, key_id: UUID) -> RevokedKey | None:
    return _revoked_or_none(
        await conn.fetchrow(
            f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
            f"WHERE id = $1 AND team_id IS NOT NULL RETURNING {_COLUMNS}",
            key_id,
        )
    )


async def revoke_personal_key(conn: Connection, key_id: UUID, user_id: UUID) -> RevokedKey | None:
    """None unless the key is ``user_id``'s own: another's key is as unknown as a missing one."""
    return _revoked_or_none(
        await conn.fetchrow(
            f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
            f"WHERE id = $1 AND user_id = $2 RETURNING {_COLUMNS}",
            key_id,
            user_id,
        )
    )


async def live_for_user(conn: Connection, user_id: UUID) -> list[ApiKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = $1 AND {_LIVE} "
        f"ORDER BY created_at DESC, id",
        user_id,
    )
    return [_key(row) for row in rows]


async def count_live_for_user(conn: Connection, user_id: UUID) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM api_keys WHERE user_id = $1 AND {_LIVE}", user_id
    )
    return count


async def retire(conn: Connection, key_id: UUID, until: datetime, replaced_by: UUID) -> None:
    """The old key of a rotation keeps working until ``until``, then expires."""
    await conn.execute(
        "UPDATE api_keys SET expires_at = least(coalesce(expires_at, $2), $2), replaced_by = $3 "
        "WHERE id = $1",
        key_id,
        until,
        replaced_by,
    )


async def revoke_for_organization(conn: Connection, organization_id: str) -> list[RevokedKey]:
    rows = await conn.fetch(
        f"UPDATE api_keys SET revoked_at = now() "
        f"WHERE organization_id = $1 AND revoked_at IS NULL RETURNING {_COLUMNS}",
        organization_id,
    )
    return [_revoked(row) for row in rows]
