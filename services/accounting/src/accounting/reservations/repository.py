"""Reads of reservations (every change goes through the ledger functions).

A reservation is named by its ``streaming_session_id`` everywhere in Python, as in the
contract (``streamingSessionId``); the table keeps it in ``reservations.id``.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from accounting.database import Connection

ReservationStatus = Literal["held", "settled", "aborted", "expired"]


@dataclass(frozen=True)
class Reservation:
    """Credits held for one model answer of a chat session (``session_id``)."""

    streaming_session_id: UUID
    account_id: UUID
    user_id: str
    session_id: str
    model_id: str
    estimated_tokens: int
    held_micro: int
    status: ReservationStatus
    charged_micro: int | None  # once it is no longer held
    created_at: datetime
    expires_at: datetime
    byok: bool = False  # asked with the caller's own provider credential: the BYOK fee


@dataclass(frozen=True)
class OpenHolds:
    """How many reservations hold credits, and how many micro-credits they hold in all."""

    count: int
    held_micro: int


_COLUMNS = (
    "id, account_id, user_id, session_id, model_id, estimated_tokens, held_micro, status, "
    "charged_micro, created_at, expires_at, byok"
)


def _reservation(row: asyncpg.Record) -> Reservation:
    return Reservation(
        streaming_session_id=row["id"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        model_id=row["model_id"],
        estimated_tokens=row["estimated_tokens"],
        held_micro=row["held_micro"],
        status=row["status"],
        charged_micro=row["charged_micro"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        byok=row["byok"],
    )


async def by_id(conn: Connection, streaming_session_id: UUID) -> Reservation | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM reservations WHERE id = $1", streaming_session_id
    )
    return None if row is None else _reservation(row)


async def latest_for_session(conn: Connection, user_id: str, session_id: str) -> Reservation | None:
    """The user's open reservation for the chat session, else their latest one."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM reservations
        WHERE user_id = $1 AND session_id = $2
        ORDER BY status = 'held' DESC, created_at DESC
        LIMIT 1
        """,
        user_id,
        session_id,
    )
    return None if row is None else _reservation(row)


async def open_ones(conn: Connection, user_id: str | None, limit: int = 500) -> list[Reservation]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM reservations
        WHERE status = 'held' AND ($1::text IS NULL OR user_id = $1)
        ORDER BY created_at DESC LIMIT $2
        """,
        user_id,
        limit,
    )
    return [_reservation(row) for row in rows]


async def open_totals(conn: Connection) -> OpenHolds:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(held_micro), 0)::bigint AS held FROM reservations "
        "WHERE status = 'held'"
    )
    if row is None:  # an aggregate without GROUP BY always has its row
        raise RuntimeError("no totals of open reservations")
    return OpenHolds(count=row["n"], held_micro=row["held"])


async def extend(
    conn: Connection,
    streaming_session_id: UUID,
    *,
    expires_at: datetime,
    input_tokens: int,
    output_tokens: int,
    charge_micro: int,
) -> datetime | None:
    """Push a held reservation's expiry out and raise its reported progress; None when it is
    not held any more."""
    new_expiry: datetime | None = await conn.fetchval(
        "SELECT ledger_extend($1, $2, $3, $4, $5)",
        streaming_session_id,
        expires_at,
        input_tokens,
        output_tokens,
        charge_micro,
    )
    return new_expiry
