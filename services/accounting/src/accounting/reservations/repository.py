"""Reads of reservations (every change goes through the ledger functions)."""

from datetime import datetime
from uuid import UUID

import asyncpg

_COLUMNS = (
    "id, account_id, user_id, session_id, model_id, estimated_tokens, held_micro, status, "
    "charged_micro, created_at, expires_at"
)


async def by_id(conn: asyncpg.Connection, reservation_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM reservations WHERE id = $1", reservation_id)


async def latest_for_session(
    conn: asyncpg.Connection, user_id: str, session_id: str
) -> asyncpg.Record | None:
    """The user's open reservation for the session, else their latest one."""
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM reservations
        WHERE user_id = $1 AND session_id = $2
        ORDER BY status = 'held' DESC, created_at DESC
        LIMIT 1
        """,
        user_id,
        session_id,
    )


async def open_ones(
    conn: asyncpg.Connection, user_id: str | None, limit: int = 500
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM reservations
        WHERE status = 'held' AND ($1::text IS NULL OR user_id = $1)
        ORDER BY created_at DESC LIMIT $2
        """,
        user_id,
        limit,
    )


async def open_totals(conn: asyncpg.Connection) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(held_micro), 0) AS held FROM reservations "
        "WHERE status = 'held'"
    )
    return row["n"], row["held"]


async def extend(
    conn: asyncpg.Connection,
    reservation_id: UUID,
    *,
    expires_at: datetime,
    input_tokens: int,
    output_tokens: int,
    charge_micro: int,
) -> datetime | None:
    """Push a held reservation's expiry out and raise its reported progress; None when it is
    not held any more."""
    return await conn.fetchval(
        "SELECT ledger_extend($1, $2, $3, $4, $5)",
        reservation_id,
        expires_at,
        input_tokens,
        output_tokens,
        charge_micro,
    )
