"""Every query on the accounts table."""

import uuid
from uuid import UUID

import asyncpg

_COLUMNS = "id, owner_type, owner_id, username, available_micro, held_micro, created_at"


async def get_or_create(
    conn: asyncpg.Connection, *, owner_type: str, owner_id: str, username: str | None
) -> tuple[asyncpg.Record, bool]:
    """The owner's account, created when missing (a known username is filled in); (row, created).

    ``ON CONFLICT DO NOTHING`` with no target covers every unique index: an upsert keyed on the
    owner raised UniqueViolationError when a concurrent first insert for the same owner reached
    the username index first (two first requests of a new user at once).
    """
    row = await _insert(conn, owner_type, owner_id, username)
    if row is not None:
        return row, True
    row = await by_owner(conn, owner_type, owner_id)
    if row is None:  # the username is another owner's: the account goes without it
        row = await _insert(conn, owner_type, owner_id, None)
        if row is not None:
            return row, True
        row = await by_owner(conn, owner_type, owner_id)
        if row is None:
            raise RuntimeError(f"no account for {owner_type} {owner_id} and none could be made")
        return row, False
    if username is not None and row["username"] is None:
        named = await conn.fetchrow(
            f"UPDATE accounts SET username = $2 WHERE id = $1 AND username IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM accounts WHERE lower(username) = lower($2)) "
            f"RETURNING {_COLUMNS}",
            row["id"],
            username,
        )
        row = named or row
    return row, False


async def _insert(
    conn: asyncpg.Connection, owner_type: str, owner_id: str, username: str | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        INSERT INTO accounts (id, owner_type, owner_id, username) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        RETURNING {_COLUMNS}
        """,
        uuid.uuid4(),
        owner_type,
        owner_id,
        username,
    )


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
