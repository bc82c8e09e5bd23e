"""Every query on the accounts table."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from accounting.database import Connection

OwnerType = Literal["user", "team"]


@dataclass(frozen=True)
class Account:
    """An owner's credit account; balances are integer micro-credits as of the read."""

    id: UUID
    owner_type: OwnerType
    owner_id: str
    username: str | None
    available_micro: int
    held_micro: int
    created_at: datetime


_COLUMNS = "id, owner_type, owner_id, username, available_micro, held_micro, created_at"


def _account(row: asyncpg.Record) -> Account:
    return Account(
        id=row["id"],
        owner_type=row["owner_type"],
        owner_id=row["owner_id"],
        username=row["username"],
        available_micro=row["available_micro"],
        held_micro=row["held_micro"],
        created_at=row["created_at"],
    )


def _account_or_none(row: asyncpg.Record | None) -> Account | None:
    return None if row is None else _account(row)


async def get_or_create(
    conn: Connection, *, owner_type: OwnerType, owner_id: str, username: str | None
) -> tuple[Account, bool]:
    """The owner's account, created when missing (a known username is filled in); (account,
    created).

    ``ON CONFLICT DO NOTHING`` with no target covers every unique index: an upsert keyed on the
    owner raised UniqueViolationError when a concurrent first insert for the same owner reached
    the username index first (two first requests of a new user at once).
    """
    account = await _insert(conn, owner_type, owner_id, username)
    if account is not None:
        return account, True
    account = await by_owner(conn, owner_type, owner_id)
    if account is None:  # the username is another owner's: the account goes without it
        account = await _insert(conn, owner_type, owner_id, None)
        if account is not None:
            return account, True
        account = await by_owner(conn, owner_type, owner_id)
        if account is None:
            raise RuntimeError(f"no account for {owner_type} {owner_id} and none could be made")
        return account, False
    if username is not None and account.username is None:
        named = await conn.fetchrow(
            f"UPDATE accounts SET username = $2 WHERE id = $1 AND username IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM accounts WHERE lower(username) = lower($2)) "
            f"RETURNING {_COLUMNS}",
            account.id,
            username,
        )
        account = _account_or_none(named) or account
    return account, False


async def _insert(
    conn: Connection, owner_type: OwnerType, owner_id: str, username: str | None
) -> Account | None:
    row = await conn.fetchrow(
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
    return _account_or_none(row)


async def by_owner(conn: Connection, owner_type: OwnerType, owner_id: str) -> Account | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM accounts WHERE owner_type = $1 AND owner_id = $2",
        owner_type,
        owner_id,
    )
    return _account_or_none(row)


async def user_by_id_or_username(conn: Connection, target: str) -> Account | None:
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM accounts
        WHERE owner_type = 'user' AND (owner_id = $1 OR lower(username) = lower($1))
        ORDER BY owner_id = $1 DESC
        LIMIT 1
        """,
        target,
    )
    return _account_or_none(row)


async def by_id(conn: Connection, account_id: UUID) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE id = $1", account_id)
    return _account_or_none(row)


async def mark_low_notified(conn: Connection, account_id: UUID, threshold_micro: int) -> int | None:
    """Flip the low-credits flag if the account is below the threshold and not yet flagged.

    Returns the available micro-credits when this call flipped it (announce once), else None.
    """
    available_micro: int | None = await conn.fetchval(
        """
        UPDATE accounts SET low_notified = true
        WHERE id = $1 AND NOT low_notified AND available_micro < $2
        RETURNING available_micro
        """,
        account_id,
        threshold_micro,
    )
    return available_micro
