"""Reads of balances and allocations."""

from uuid import UUID

import asyncpg


async def live_allocations(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, amount_micro, remaining_micro, expires_at, notes FROM allocations
        WHERE account_id = $1 AND expired_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        ORDER BY expires_at NULLS LAST, created_at, id
        """,
        account_id,
    )


async def balance(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        "SELECT available_micro, held_micro, next_expiry_at <= now() AS expiry_due "
        "FROM accounts WHERE id = $1",
        account_id,
    )


async def allocation(conn: asyncpg.Connection, allocation_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT account_id, amount_micro FROM allocations WHERE id = $1", allocation_id
    )
