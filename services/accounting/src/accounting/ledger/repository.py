"""The ledger's operations: each is one call of a SQL function (migrations/002_* to 006_*).

The functions lock the account row for the length of one statement, which is what makes a
hot account fast and concurrent reservations unable to hold more than the balance. A
reservation is named by its ``streaming_session_id`` (the contract's ``streamingSessionId``;
``reservations.id`` and ``p_reservation`` in SQL).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from accounting.database import Connection
from accounting.key_budgets.claims import SpendingKey

# How a reservation ended: settled or aborted (charged what the measuring service reported,
# never more than the hold), or expired unsettled (charged its last reported progress).
SettledStatus = Literal["settled", "aborted", "expired"]


# Why nothing was held: the key's budget would be passed, or the account is short.
HoldRefusal = Literal["key_budget_exceeded", "insufficient_credits"]


@dataclass(frozen=True)
class HoldOutcome:
    """Whether a reservation now holds its amount, else why not (``refusal``); the account's
    available micro-credits after; and, for a reservation made with a key, what the key had
    spent and held before this hold (None without a key)."""

    held: bool
    available_micro: int
    refusal: HoldRefusal | None = None
    key_spent_micro: int | None = None
    key_held_micro: int | None = None


@dataclass(frozen=True)
class Settlement:
    """A settlement's figures. ``applied`` false: the reservation had already ended, and these
    are that first ending's figures."""

    status: SettledStatus
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
    conn: Connection,
    *,
    allocation_id: UUID,
    account_id: UUID,
    amount_micro: int,
    expires_at: datetime | None,
    notes: str | None,
    created_by: str,
) -> int:
    """Add credits; returns the account's available micro-credits after."""
    available_micro: int = await conn.fetchval(
        "SELECT ledger_allocate($1, $2, $3, $4, $5, $6)",
        allocation_id,
        account_id,
        amount_micro,
        expires_at,
        notes,
        created_by,
    )
    return available_micro


async def reserve(
    conn: Connection,
    *,
    streaming_session_id: UUID,
    account_id: UUID,
    key: SpendingKey | None,
    user_id: str,
    session_id: str,
    model_id: str,
    estimated_tokens: int,
    amount_micro: int,
    expires_at: datetime,
    byok: bool = False,
) -> HoldOutcome:
    """Hold ``amount_micro`` for a new reservation, or nothing when the key's budget would be
    passed or the account is short (checked under the account's and the key's locks). A
    ``byok`` reservation is marked so in the same transaction: its settlement's usage record
    copies it."""
    row = await _one_row(
        conn,
        "SELECT ok, available, refusal, key_spent, key_held "
        "FROM ledger_reserve_for_key($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        streaming_session_id,
        account_id,
        key.key_id if key else None,
        key.budget_micro if key else None,
        user_id,
        session_id,
        model_id,
        estimated_tokens,
        amount_micro,
        expires_at,
    )
    if byok and row["ok"]:
        await conn.execute(
            "UPDATE reservations SET byok = true WHERE id = $1", streaming_session_id
        )
    return HoldOutcome(
        held=row["ok"],
        available_micro=row["available"],
        refusal=row["refusal"],
        key_spent_micro=row["key_spent"],
        key_held_micro=row["key_held"],
    )


async def settle(
    conn: Connection,
    *,
    streaming_session_id: UUID,
    charge_micro: int,
    status: SettledStatus,
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
        streaming_session_id,
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
    return Settlement(
        status=row["status"],
        charged_micro=row["charged"],
        refunded_micro=row["refunded"],
        applied=row["applied"],
    )


# What became of a usage event naming a reservation (migrations/008_usage_settlement.sql).
UsageOutcome = Literal["unknown", "already_settled", "duplicate", "applied"]


@dataclass(frozen=True)
class UsageSettlement:
    """``settlement`` is set when ``outcome`` is applied: the event was claimed and these are
    the settlement's figures (``applied`` false: another settlement got there first)."""

    outcome: UsageOutcome
    settlement: Settlement | None = None


async def settle_usage(
    conn: Connection,
    *,
    event_id: UUID,
    consumer: str,
    streaming_session_id: UUID,
    user_id: str,
    charge_micro: int,
    byok_charge_micro: int,
    input_tokens: int,
    output_tokens: int,
    service: str,
    operation: str,
) -> UsageSettlement:
    """Check the user's reservation, claim the event for ``consumer`` and settle, in one
    statement; the charge is ``byok_charge_micro`` when the reservation is BYOK."""
    row = await _one_row(
        conn,
        "SELECT outcome, status, charged, refunded, applied "
        "FROM ledger_settle_usage($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        event_id,
        consumer,
        streaming_session_id,
        user_id,
        charge_micro,
        byok_charge_micro,
        input_tokens,
        output_tokens,
        service,
        operation,
    )
    if row["outcome"] != "applied":
        return UsageSettlement(row["outcome"])
    return UsageSettlement(
        "applied",
        Settlement(
            status=row["status"],
            charged_micro=row["charged"],
            refunded_micro=row["refunded"],
            applied=row["applied"],
        ),
    )


async def charge(
    conn: Connection,
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
    key: SpendingKey | None = None,
    byok: bool = False,
) -> DirectCharge:
    """Charge without a reservation: what is available (and left of the key's budget) at
    most, the rest recorded as unpaid."""
    row = await _one_row(
        conn,
        "SELECT charged, unpaid, available, usage_id "
        "FROM ledger_charge_for_key($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        account_id,
        key.key_id if key else None,
        key.budget_micro if key else None,
        amount_micro,
        user_id,
        service,
        operation,
        model_id,
        input_tokens,
        output_tokens,
        event_id,
    )
    if byok:
        await conn.execute("UPDATE usage_records SET byok = true WHERE id = $1", row["usage_id"])
    return DirectCharge(
        charged_micro=row["charged"],
        unpaid_micro=row["unpaid"],
        available_micro=row["available"],
        usage_id=row["usage_id"],
    )


async def transfer(
    conn: Connection,
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
    row = await _one_row(
        conn,
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


async def expire_holds(conn: Connection, limit: int = 100) -> int:
    """Settle up to ``limit`` holds past their expiry; how many this call settled."""
    expired: int = await conn.fetchval("SELECT ledger_expire_holds($1)", limit)
    return expired


async def expire_due_allocations(conn: Connection, account_id: UUID) -> None:
    """Make credits whose allocation expired stop counting (locks the account briefly)."""
    await conn.execute("SELECT ledger_lock_account($1)", account_id)


async def _one_row(conn: Connection, query: str, *args: object) -> asyncpg.Record:
    """The row of a ledger function that always returns exactly one."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise RuntimeError(f"ledger function returned no row: {query.split('(')[0]}")
    return row
