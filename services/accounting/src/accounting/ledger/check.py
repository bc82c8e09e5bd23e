"""Proof that the ledger adds up: `make ledger-check` (or the `ledger-check` command).

For every account: available and held equal the sums of its entries; available equals what
its live allocations hold; held equals what its open reservations hold, and each open
reservation's draws add up to its hold. Each transfer took exactly its amount from its source
and gave exactly that to its target, and touched nothing else. For every API key: what it
spent equals what its ended reservations charged plus its direct charges (and its usage
records), what it holds equals its open reservations, spend and holds stay within its budget,
and all of it is on the key's one account. Every account's usage records add up to what its
ledger charged (settlements and direct charges), which is what makes a usage export's totals
the ledger's. Exit status 1 and a line per problem otherwise.
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
    "a key's spend differs from what its ended reservations and direct charges took": """
        SELECT k.key_id, k.spent_micro,
               coalesce(r.charged, 0) AS reservations, coalesce(u.charged, 0) AS direct
        FROM key_spend k
        LEFT JOIN (
            SELECT key_id, sum(charged_micro) AS charged FROM reservations
            WHERE key_id IS NOT NULL AND status <> 'held' GROUP BY key_id
        ) r ON r.key_id = k.key_id
        LEFT JOIN (
            SELECT key_id, sum(credits_micro) AS charged FROM usage_records
            WHERE key_id IS NOT NULL AND reservation_id IS NULL GROUP BY key_id
        ) u ON u.key_id = k.key_id
        WHERE k.spent_micro <> coalesce(r.charged, 0) + coalesce(u.charged, 0)
    """,
    "a key's spend differs from its usage records": """
        SELECT k.key_id, k.spent_micro, coalesce(sum(u.credits_micro), 0) AS usage
        FROM key_spend k LEFT JOIN usage_records u ON u.key_id = k.key_id
        GROUP BY k.key_id HAVING k.spent_micro <> coalesce(sum(u.credits_micro), 0)
    """,
    "a key's held differs from what its open reservations hold": """
        SELECT k.key_id, k.held_micro, coalesce(sum(r.held_micro), 0) AS reservations
        FROM key_spend k
        LEFT JOIN reservations r ON r.key_id = k.key_id AND r.status = 'held'
        GROUP BY k.key_id HAVING k.held_micro <> coalesce(sum(r.held_micro), 0)
    """,
    "a key spent and holds more than its budget": """
        SELECT key_id, budget_micro, spent_micro, held_micro FROM key_spend
        WHERE budget_micro IS NOT NULL AND spent_micro + held_micro > budget_micro
    """,
    "a key's reservation or usage is on another account than the key's": """
        SELECT k.key_id, k.account_id, r.id AS reservation_id, r.account_id AS other
        FROM key_spend k JOIN reservations r ON r.key_id = k.key_id
        WHERE r.account_id <> k.account_id
        UNION ALL
        SELECT k.key_id, k.account_id, u.reservation_id, u.account_id
        FROM key_spend k JOIN usage_records u ON u.key_id = k.key_id
        WHERE u.account_id <> k.account_id
    """,
    "a usage record names another key than its reservation": """
        SELECT u.id, u.key_id, r.key_id AS reservation_key
        FROM usage_records u JOIN reservations r ON r.id = u.reservation_id
        WHERE u.key_id IS DISTINCT FROM r.key_id
    """,
    "an account's usage records differ from what its ledger charged": """
        SELECT a.id, coalesce(u.charged, 0) AS usage, coalesce(e.charged, 0) AS ledger
        FROM accounts a
        LEFT JOIN (
            SELECT account_id, sum(credits_micro) AS charged FROM usage_records
            GROUP BY account_id
        ) u ON u.account_id = a.id
        LEFT JOIN (
            SELECT account_id,
                   sum(CASE kind WHEN 'settlement' THEN -held_delta ELSE -available_delta END)
                       AS charged
            FROM ledger_entries WHERE kind IN ('settlement', 'charge')
            GROUP BY account_id
        ) e ON e.account_id = a.id
        WHERE coalesce(u.charged, 0) <> coalesce(e.charged, 0)
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
