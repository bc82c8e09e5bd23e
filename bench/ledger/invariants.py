"""The ledger's promises, checked from its data: no overdraft under a race, balances equal to
their entries."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from .scenarios import HOLD_MICRO, Batcher, funded_account, reserve

# Counted over every account of the benchmark database, after every scenario.
OVERDRAFTS = """
WITH funded AS (
    SELECT account_id, sum(amount_micro) AS allocated FROM allocations GROUP BY account_id
), spent AS (
    SELECT account_id,
           sum(CASE WHEN status = 'held' THEN held_micro ELSE 0 END) AS held,
           sum(coalesce(charged_micro, 0)) AS charged
    FROM reservations GROUP BY account_id
)
SELECT count(*) FROM accounts a
LEFT JOIN funded f ON f.account_id = a.id
LEFT JOIN spent s ON s.account_id = a.id
WHERE a.available_micro < 0 OR a.held_micro < 0
   OR coalesce(s.held, 0) + coalesce(s.charged, 0) > coalesce(f.allocated, 0)
   OR a.available_micro + a.held_micro > coalesce(f.allocated, 0)
"""
LEDGER_MISMATCHES = """
WITH sums AS (
    SELECT account_id, sum(available_delta) AS available, sum(held_delta) AS held
    FROM ledger_entries GROUP BY account_id
), holds AS (
    SELECT account_id, sum(held_micro) AS held FROM reservations
    WHERE status = 'held' GROUP BY account_id
), remaining AS (
    SELECT account_id, sum(remaining_micro) AS remaining FROM allocations
    WHERE expired_at IS NULL GROUP BY account_id
)
SELECT count(*) FROM accounts a
LEFT JOIN sums e ON e.account_id = a.id
LEFT JOIN holds h ON h.account_id = a.id
LEFT JOIN remaining r ON r.account_id = a.id
WHERE a.available_micro <> coalesce(e.available, 0) OR a.held_micro <> coalesce(e.held, 0)
   OR a.held_micro <> coalesce(h.held, 0) OR a.available_micro <> coalesce(r.remaining, 0)
"""


@dataclass
class Overdraft:
    held: int  # reservations that held
    open_holds: int  # reservations still held, counted from the table
    available_micro: int
    held_micro: int


async def overdraft_test(
    pool: asyncpg.Pool, batcher: Batcher, covered: int, attempts: int
) -> Overdraft:
    """``attempts`` concurrent reservations against a balance for ``covered``."""
    account = await funded_account(pool, "bench-overdraft", covered * HOLD_MICRO)
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    start = asyncio.Event()

    async def attempt() -> bool:
        await start.wait()
        hold = await batcher.run(account[0], reserve(account, uuid.uuid4(), expires_at))
        return hold.held

    tasks = [asyncio.create_task(attempt()) for _ in range(attempts)]
    await asyncio.sleep(0)
    start.set()
    held = sum(await asyncio.gather(*tasks))
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT available_micro, held_micro FROM accounts WHERE id = $1", account[0]
        )
        open_holds = await conn.fetchval(
            "SELECT count(*) FROM reservations WHERE account_id = $1 AND status = 'held'",
            account[0],
        )
    if row is None:
        raise RuntimeError(f"the overdraft test's account {account[0]} is gone")
    return Overdraft(held, open_holds, row["available_micro"], row["held_micro"])


async def count_problems(pool: asyncpg.Pool) -> tuple[int, int]:
    """(accounts overdrawn, accounts whose balance is out of step with the ledger)."""
    async with pool.acquire() as conn:
        return await conn.fetchval(OVERDRAFTS), await conn.fetchval(LEDGER_MISMATCHES)
