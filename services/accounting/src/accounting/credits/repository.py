"""Reads of balances and allocations."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from accounting.database import Connection


@dataclass(frozen=True)
class Allocation:
    """Credits given to an account (by an admin, a plan or a transfer), in micro-credits."""

    id: UUID
    account_id: UUID
    amount_micro: int
    remaining_micro: int
    expires_at: datetime | None
    notes: str | None


@dataclass(frozen=True)
class Balance:
    """An account's micro-credits; ``expiry_due`` when an allocation's expiry has passed and
    its credits still count (the next locking write expires them)."""

    available_micro: int
    held_micro: int
    expiry_due: bool


_ALLOCATION_COLUMNS = "id, account_id, amount_micro, remaining_micro, expires_at, notes"


def _allocation(row: asyncpg.Record) -> Allocation:
    return Allocation(
        id=row["id"],
        account_id=row["account_id"],
        amount_micro=row["amount_micro"],
        remaining_micro=row["remaining_micro"],
        expires_at=row["expires_at"],
        notes=row["notes"],
    )


async def live_allocations(conn: Connection, account_id: UUID) -> list[Allocation]:
    rows = await conn.fetch(
        f"""
        SELECT {_ALLOCATION_COLUMNS} FROM allocations
        WHERE account_id = $1 AND expired_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        ORDER BY expires_at NULLS LAST, created_at, id
        """,
        account_id,
    )
    return [_allocation(row) for row in rows]


async def balance(conn: Connection, account_id: UUID) -> Balance:
    row = await conn.fetchrow(
        "SELECT available_micro, held_micro, next_expiry_at <= now() AS expiry_due "
        "FROM accounts WHERE id = $1",
        account_id,
    )
    if row is None:  # accounts are never deleted: the caller read this one before
        raise LookupError(f"no account {account_id}")
    return Balance(
        available_micro=row["available_micro"],
        held_micro=row["held_micro"],
        expiry_due=bool(row["expiry_due"]),  # NULL: nothing expires
    )


async def allocation(conn: Connection, allocation_id: UUID) -> Allocation | None:
    row = await conn.fetchrow(
        f"SELECT {_ALLOCATION_COLUMNS} FROM allocations WHERE id = $1", allocation_id
    )
    return None if row is None else _allocation(row)
