"""Proof that the ledger adds up: `make ledger-check` (or the `ledger-check` command).

For every account: available and held equal the sums of its entries; available equals what
its live allocations hold; held equals what its open reservations hold, and each open
reservation's draws add up to its hold. Each transfer took exactly its amount from its source
and gave exactly that to its target, and touched nothing else. Exit status 1 and a line per
problem otherwise.
"""

import asyncio
import os
import sys

import asyncpg

from accounting.database import Connection

CHECKS = {
    "balance differs from the sum of its entries": """
        SELECT a.id, a.available_micro, a.held_micro,
               coalesce(sum(e.available_delta), 0) AS entries_available,
               coalesce(sum(e.held_delta), 0) AS entries_held
        FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        GROUP BY a.id
        HAVING a.available_micro <> coalesce(sum(e.available_delta), 0)
            OR a.held_micro <> coalesce(sum(e.held_delta), 0)
    """,
    "available differs from what live allocations hold": """
        SELECT a.id, a.available_micro, coalesce(sum(al.remaining_micro), 0) AS allocations
        FROM accounts a LEFT JOIN allocations al ON al.account_id = a.id AND al.expired_at IS NULL
        GROUP BY a.id HAVING a.available_micro <> coalesce(sum(al.remaining_micro), 0)
    """,
    "held differs from what open reservations hold": """
        SELECT a.id, a.held_micro, coalesce(sum(r.held_micro), 0) AS reservations
        FROM accounts a LEFT JOIN reservations r ON r.account_id = a.id AND r.status = 'held'
        GROUP BY a.id HAVING a.held_micro <> coalesce(sum(r.held_micro), 0)
    """,
    "an open reservation's draws differ from its hold": """
        SELECT r.id, r.held_micro, coalesce(sum(d.amount_micro), 0) AS draws
        FROM reservations r LEFT JOIN reservation_draws d ON d.reservation_id = r.id
        WHERE r.status = 'held'
        GROUP BY r.id HAVING r.held_micro <> coalesce(sum(d.amount_micro), 0)
    """,
    "a transfer's two sides differ from its amount": """
        SELECT * FROM (
            SELECT t.id, t.amount_micro,
                   coalesce(sum(e.available_delta) FILTER (
                       WHERE e.account_id = t.from_account_id AND e.kind = 'transfer_out'
                   ), 0) AS taken,
                   coalesce(sum(e.available_delta) FILTER (
                       WHERE e.account_id = t.to_account_id AND e.kind = 'transfer_in'
                   ), 0) AS given,
                   count(e.id) FILTER (
                       WHERE e.account_id NOT IN (t.from_account_id, t.to_account_id)
                          OR e.kind NOT IN ('transfer_out', 'transfer_in') OR e.held_delta <> 0
                   ) AS stray
            FROM transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id
            GROUP BY t.id
        ) sides
        WHERE taken <> -amount_micro OR given <> amount_micro OR stray > 0
    """,
    "a transfer entry names no transfer": """
        SELECT id, account_id, kind FROM ledger_entries
        WHERE kind IN ('transfer_out', 'transfer_in') AND transfer_id IS NULL
    """,
    "a balance is negative": """
        SELECT id, available_micro, held_micro FROM accounts
        WHERE available_micro < 0 OR held_micro < 0
    """,
}


async def find_problems(conn: Connection) -> list[str]:
    """Every inconsistency, as readable lines; empty when the ledger adds up."""
    problems = []
    # One snapshot for all checks, so concurrent traffic cannot make them disagree.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for description, query in CHECKS.items():
            for row in await conn.fetch(query):
                problems.append(f"{description}: {dict(row)}")
    return problems


async def _main(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        accounts = await conn.fetchval("SELECT count(*) FROM accounts")
        entries = await conn.fetchval("SELECT count(*) FROM ledger_entries")
        problems = await find_problems(conn)
    finally:
        await conn.close()
    for line in problems:
        print(line)
    verdict = "FAILED" if problems else "ok"
    print(
        f"ledger check {verdict}: {accounts} accounts, {entries} entries, {len(problems)} problems"
    )
    return 1 if problems else 0


def main() -> None:
    dsn = (
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/accounting")
    )
    sys.exit(asyncio.run(_main(dsn)))


if __name__ == "__main__":
    main()
