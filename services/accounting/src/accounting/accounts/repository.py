"""Every query on the accounts table."""

import uuid
from uuid import UUID

import asyncpg

_COLUMNS = "id, owner_type, owner_id, username, available_micro, held_micro, created_at"


async def get_or_create(
    conn: asyncpg.Connection, *, owner_type: str, owner_id: str, username: str | None
) -> tuple[asyncpg.Record, bool]:
    """The owner's account, created when missing (a known username is filled in); (row, created)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO accounts (id, owner_type, owner_id, username) VALUES ($1, $2, $3, $4)
        ON CONFLICT (owner_type, owner_id)
            DO UPDATE SET username = coalesce(accounts.username, EXCLUDED.username)
        RETURNING {_COLUMNS}, (xmax = 0) AS created
        """,
        uuid.uuid4(),
        owner_type,
        owner_id,
        username,
    )
    return row, row["created"]


async def by_owner(
    conn: asyncpg.Connection, owner_type: str, owner_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM accounts WHERE owner_type = $1 AND owner_id = $2",
        owner_type,
        owner_id,
    )


async def user_by_id_or_username(conn: asyncpg.Connection, target: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM accounts
        WHERE owner_type = 'user' AND (owner_id = $1 OR lower(username) = lower($1))
        ORDER BY owner_id = $1 DESC
        LIMIT 1
        """,
        target,
    )


async def by_id(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE id = $1", account_id)


async def mark_low_notified(
    conn: asyncpg.Connection, account_id: UUID, threshold_micro: int
) -> int | None:
    """Flip the low-credits flag if the account is below the threshold and not yet flagged.

    Returns the available micro-credits when this call flipped it (announce once), else None.
    """
    return await conn.fetchval(
        """
        UPDATE accounts SET low_notified = true
        WHERE id = $1 AND NOT low_notified AND available_micro < $2
        RETURNING available_micro
        """,
        account_id,
        threshold_micro,
    )
