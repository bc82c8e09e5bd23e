"""The ledger's operations: each is one call of a SQL function (migrations/002_*, 004_*).

The functions lock the account row for the length of one statement, which is what makes a
hot account fast and concurrent reservations unable to hold more than the balance.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Settlement:
    status: str
    charged_micro: int
    refunded_micro: int
    applied: bool


@dataclass(frozen=True)
class DirectCharge:
    charged_micro: int
    unpaid_micro: int
    available_micro: int
    usage_id: int


@dataclass(frozen=True)
class Transfer:
    """A transfer's outcome. ``applied`` false and ``sufficient`` true: the key had already
    transferred, and these are that first transfer's accounts and amount. ``sufficient``
    false: nothing moved. Balances are the accounts' available micro-credits now."""

    transfer_id: UUID | None
    applied: bool
    sufficient: bool
    from_account_id: UUID
    to_account_id: UUID
    amount_micro: int
    from_available_micro: int
    to_available_micro: int


async def allocate(
    conn: asyncpg.Connection,
    *,
    allocation_id: UUID,
    account_id: UUID,
    amount_micro: int,
    expires_at: datetime | None,
    notes: str | None,
    created_by: str,
) -> int:
    """Add credits; returns the account's available micro-credits after."""
    return await conn.fetchval(
        "SELECT ledger_allocate($1, $2, $3, $4, $5, $6)",
        allocation_id,
        account_id,
        amount_micro,
        expires_at,
        notes,
        created_by,
    )


async def reserve(
    conn: asyncpg.Connection,
    *,
    reservation_id: UUID,
    account_id: UUID,
    user_id: str,
    session_id: str,
    model_id: str,
    estimated_tokens: int,
    amount_micro: int,
    expires_at: datetime,
) -> tuple[bool, int]:
    """Hold ``amount_micro``; (held, available after) — nothing is held when short."""
    row = await conn.fetchrow(
        "SELECT ok, available FROM ledger_reserve($1, $2, $3, $4, $5, $6, $7, $8)",
        reservation_id,
        account_id,
        user_id,
        session_id,
        model_id,
        estimated_tokens,
        amount_micro,
        expires_at,
    )
    return row["ok"], row["available"]


async def settle(
    conn: asyncpg.Connection,
    *,
    reservation_id: UUID,
    charge_micro: int,
    status: str,
    input_tokens: int | None,
    output_tokens: int | None,
    service: str | None = None,
    operation: str | None = None,
    event_id: UUID | None = None,
) -> Settlement | None:
    """Charge and release a reservation; None when it does not exist."""
    row = await conn.fetchrow(
        "SELECT status, charged, refunded, applied "
        "FROM ledger_settle($1, $2, $3, $4, $5, $6, $7, $8)",
        reservation_id,
        charge_micro,
        status,
        input_tokens,
        output_tokens,
        service,
        operation,
        event_id,
    )
    if row is None:
        return None
    return Settlement(row["status"], row["charged"], row["refunded"], row["applied"])


async def charge(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    amount_micro: int,
    user_id: str,
    service: str,
    operation: str,
    model_id: str | None,
    input_tokens: int,
    output_tokens: int,
    event_id: UUID | None,
) -> DirectCharge:
    row = await conn.fetchrow(
        "SELECT charged, unpaid, available, usage_id "
        "FROM ledger_charge($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        account_id,
        amount_micro,
        user_id,
        service,
        operation,
        model_id,
        input_tokens,
        output_tokens,
        event_id,
    )
    return DirectCharge(row["charged"], row["unpaid"], row["available"], row["usage_id"])


async def transfer(
    conn: asyncpg.Connection,
    *,
    transfer_id: UUID,
    idempotency_key: str,
    from_account_id: UUID,
    to_account_id: UUID,
    amount_micro: int,
    notes: str | None,
    created_by: str,
) -> Transfer:
    """Move available credits between two accounts, once per key (locks both accounts)."""
    row = await conn.fetchrow(
        "SELECT transfer, applied, sufficient, source, target, moved, available, "
        "target_available FROM ledger_transfer($1, $2, $3, $4, $5, $6, $7)",
        transfer_id,
        idempotency_key,
        from_account_id,
        to_account_id,
        amount_micro,
        notes,
        created_by,
    )
    return _transfer(row)


def _transfer(row: asyncpg.Record) -> Transfer:
    return Transfer(
        transfer_id=row["transfer"],
        applied=row["applied"],
        sufficient=row["sufficient"],
        from_account_id=row["source"],
        to_account_id=row["target"],
        amount_micro=row["moved"],
        from_available_micro=row["available"],
        to_available_micro=row["target_available"],
    )


async def usage_by_event(conn: asyncpg.Connection, event_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, credits_micro, unpaid_micro FROM usage_records WHERE event_id = $1", event_id
    )


async def expire_holds(conn: asyncpg.Connection, limit: int = 100) -> int:
    return await conn.fetchval("SELECT ledger_expire_holds($1)", limit)


async def expire_due_allocations(conn: asyncpg.Connection, account_id: UUID) -> None:
    """Make credits whose allocation expired stop counting (locks the account briefly)."""
    await conn.execute("SELECT ledger_lock_account($1)", account_id)
