"""Ledger benchmark: reservation+finalize pairs per second, on one hot account and spread out.

    uv run python bench/ledger.py [--seconds 5] [--clients 64] [--pool-size 64]
                                  [--postgres postgresql://postgres@127.0.0.1:5432]
                                  [--synchronous-commit off] [--waits]

Creates a throwaway database (bench_ledger_<random>) on the server, applies the accounting
migrations and drops it at the end, also on error or Ctrl-C. Every client is an asyncio task
sharing one asyncpg pool and, as the service does, runs the ledger's own functions
(accounting.ledger.repository.reserve, then settle) through the service's AccountBatcher,
which runs concurrent operations on one account in one transaction; --no-batching gives
each operation its own transaction instead.

Figures, in one run:
  - a bare single-row UPDATE loop on one row (the ceiling for anything serialized on one row);
  - reserve+settle pairs/s on one hot account (target: >= 0.5 x the bare UPDATE rate) and
    spread over 1,000 accounts, with p50/p99 latency of reserve and settle on the hot account;
  - an overdraft test: 200 concurrent reservations against a balance that covers 50, then
    overdrafts and ledger invariants counted from the data.
--synchronous-commit sets that parameter for the benchmark's own sessions only (never
server-wide), to see how much of the time is the commit's WAL flush; --waits samples
pg_stat_activity during each scenario and prints where the backends were waiting.
"""

import argparse
import asyncio
import collections
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from accounting.accounts.repository import get_or_create
from accounting.credits.amounts import MICRO
from accounting.ledger import repository as ledger
from accounting.ledger.batcher import AccountBatcher
from accounting.ledger.schema import MIGRATIONS
from pg_migrations import apply_migrations

HOLD_MICRO = 1 * MICRO  # what every reservation holds
CHARGE_MICRO = MICRO // 4  # what every settlement charges (the rest goes back)
FUNDING_MICRO = 1_000_000 * MICRO  # per account up front: never runs out in a benchmark
MODEL = "bench-model"


def database_url(server: str, database: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{database}"))


def admin_url(server: str) -> str:
    parts = urlsplit(server)
    return server if parts.path not in ("", "/") else database_url(server, "postgres")


@dataclass
class Run:
    """What one scenario measured."""

    elapsed: float = 0.0
    done: int = 0  # bare updates, or completed reserve+settle pairs
    refused: int = 0  # reservations refused for insufficient credits
    reserve_s: list[float] = field(default_factory=list)
    settle_s: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # this process's CPU time / wall time (1.0 = one core busy)
    waits: collections.Counter = field(default_factory=collections.Counter)
    samples: int = 0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def sample_waits(dsn: str, database: str, run: Run, stop: asyncio.Event) -> None:
    """Tally what the benchmark's backends are doing, every 10 ms, until ``stop``."""
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            rows = await conn.fetch(
                """
                SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                """,
                database,
            )
            for row in rows:
                if row["state"] == "active":
                    what = f"{row['wait_event_type']}:{row['wait_event']}"
                    run.waits["running (CPU)" if row["wait_event"] is None else what] += 1
                else:
                    run.waits[f"{row['state']} (waiting for the client)"] += 1
            run.samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.01)
    finally:
        await conn.close()


async def measure(
    pool: asyncpg.Pool,
    clients: int,
    seconds: float,
    step: Callable[[Run], Awaitable[None]],
    waits_dsn: tuple[str, str] | None,
) -> Run:
    """Run ``step`` in a loop from ``clients`` tasks for ``seconds``."""
    run = Run()
    stop = asyncio.Event()
    sampler = None
    if waits_dsn is not None:
        sampler = asyncio.create_task(sample_waits(*waits_dsn, run, stop))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            await step(run)

    cpu, started = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        run.elapsed = time.perf_counter() - started
        run.client_cpu = (time.process_time() - cpu) / run.elapsed
        stop.set()
        if sampler is not None:
            await sampler
    return run


def bare_update(pool: asyncpg.Pool) -> Callable[[Run], Awaitable[None]]:
    async def step(run: Run) -> None:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
        run.done += 1

    return step


class Unbatched:
    """Each operation in its own transaction (what --no-batching measures)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def run(self, account_id: uuid.UUID, operation):
        async with self._pool.acquire() as conn:
            return await operation(conn)


def reserve_and_settle(
    batcher: AccountBatcher | Unbatched, accounts: list[tuple[uuid.UUID, str]], *, timed: bool
) -> Callable[[Run], Awaitable[None]]:
    expires_at = datetime.now(UTC) + timedelta(hours=1)

    async def step(run: Run) -> None:
        account_id, user_id = random.choice(accounts)
        streaming_session_id = uuid.uuid4()
        started = time.perf_counter()
        hold = await batcher.run(
            account_id,
            partial(
                ledger.reserve,
                streaming_session_id=streaming_session_id,
                account_id=account_id,
                user_id=user_id,
                session_id=str(uuid.uuid4()),
                model_id=MODEL,
                estimated_tokens=1000,
                amount_micro=HOLD_MICRO,
                expires_at=expires_at,
            ),
        )
        if timed:
            run.reserve_s.append(time.perf_counter() - started)
        if not hold.held:
            run.refused += 1
            return
        started = time.perf_counter()
        await batcher.run(
            account_id,
            partial(
                ledger.settle,
                streaming_session_id=streaming_session_id,
                charge_micro=CHARGE_MICRO,
                status="settled",
                input_tokens=400,
                output_tokens=600,
                service="chat",
                operation="stream",
            ),
        )
        if timed:
            run.settle_s.append(time.perf_counter() - started)
        run.done += 1

    return step


async def funded_account(
    pool: asyncpg.Pool, owner_id: str, amount_micro: int
) -> tuple[uuid.UUID, str]:
    async with pool.acquire() as conn:
        account, _ = await get_or_create(conn, owner_type="user", owner_id=owner_id, username=None)
        await ledger.allocate(
            conn,
            allocation_id=uuid.uuid4(),
            account_id=account.id,
            amount_micro=amount_micro,
            expires_at=None,
            notes="bench",
            created_by="bench",
        )
    return account.id, owner_id


async def overdraft_test(
    pool: asyncpg.Pool, batcher: AccountBatcher | Unbatched, covered: int, attempts: int
) -> tuple[int, int, int, int]:
    """``attempts`` concurrent reservations against a balance for ``covered``."""
    account_id, user_id = await funded_account(pool, "bench-overdraft", covered * HOLD_MICRO)
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    start = asyncio.Event()

    async def attempt() -> bool:
        await start.wait()
        hold = await batcher.run(
            account_id,
            partial(
                ledger.reserve,
                streaming_session_id=uuid.uuid4(),
                account_id=account_id,
                user_id=user_id,
                session_id=str(uuid.uuid4()),
                model_id=MODEL,
                estimated_tokens=1000,
                amount_micro=HOLD_MICRO,
                expires_at=expires_at,
            ),
        )
        return hold.held

    tasks = [asyncio.create_task(attempt()) for _ in range(attempts)]
    await asyncio.sleep(0)
    start.set()
    held = sum(await asyncio.gather(*tasks))
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT available_micro, held_micro FROM accounts WHERE id = $1", account_id
        )
        open_holds = await conn.fetchval(
            "SELECT count(*) FROM reservations WHERE account_id = $1 AND status = 'held'",
            account_id,
        )
    return held, open_holds, row["available_micro"], row["held_micro"]


# Counted over every account of the benchmark database, after every scenario.
_OVERDRAFTS = """
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
_LEDGER_MISMATCHES = """
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


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_waits(run: Run, clients: int) -> None:
    if not run.samples:
        return
    top = ", ".join(f"{what} {count / run.samples:.1f}" for what, count in run.waits.most_common(5))
    print(f"      backends (of {clients}) on average: {top}")


async def bench(args: argparse.Namespace, database: str) -> None:
    dsn = database_url(args.postgres, database)
    await apply_migrations(dsn, [MIGRATIONS])
    settings = {"application_name": "bench-ledger"}
    if args.synchronous_commit:
        settings["synchronous_commit"] = args.synchronous_commit
    pool = await asyncpg.create_pool(
        dsn, min_size=args.pool_size, max_size=args.pool_size, server_settings=settings
    )
    try:
        async with pool.acquire() as conn:
            version = await conn.fetchval("SHOW server_version")
            sync = await conn.fetchval("SHOW synchronous_commit")
            await conn.execute(
                "CREATE TABLE bench_counter (id integer PRIMARY KEY, n bigint NOT NULL);"
                "INSERT INTO bench_counter VALUES (1, 0)"
            )
        hot = [await funded_account(pool, "bench-hot", FUNDING_MICRO)]
        spread = await asyncio.gather(
            *(funded_account(pool, f"bench-{i}", FUNDING_MICRO) for i in range(args.accounts))
        )
        waits = (dsn, database) if args.waits else None
        measure_ = (args.clients, args.seconds)

        bare = await measure(pool, *measure_, bare_update(pool), waits)
        batcher = Unbatched(pool) if args.no_batching else AccountBatcher(pool)
        hot_run = await measure(
            pool, *measure_, reserve_and_settle(batcher, hot, timed=True), waits
        )
        spread_run = await measure(
            pool, *measure_, reserve_and_settle(batcher, spread, timed=False), waits
        )
        held, open_holds, available, held_micro = await overdraft_test(
            pool, batcher, args.overdraft_covers, args.overdraft_attempts
        )
        async with pool.acquire() as conn:
            overdrafts = await conn.fetchval(_OVERDRAFTS)
            mismatches = await conn.fetchval(_LEDGER_MISMATCHES)
    finally:
        try:
            await asyncio.wait_for(pool.close(), 10)
        except (TimeoutError, asyncio.CancelledError):
            pool.terminate()
            raise

    ratio = hot_run.rate / bare.rate if bare.rate else float("nan")
    spread_label = f"reserve+finalize, {args.accounts:,} accounts"
    width = max(32, len(spread_label))
    print(
        f"ledger benchmark, PostgreSQL {version.split()[0]}, {args.clients} clients on a pool of "
        f"{args.pool_size}, {args.seconds:g} s per scenario, synchronous_commit={sync}, "
        f"{'no batching' if args.no_batching else 'per-account batches (as the service)'}"
    )
    print(f"  {'bare single-row UPDATE':<{width}} {bare.rate:>9,.0f} /s")
    print_waits(bare, args.clients)
    print(
        f"  {'reserve+finalize, hot account':<{width}} {hot_run.rate:>9,.0f} pairs/s"
        f"   ({ratio:.2f} x bare; target >= 0.5)"
    )
    print_waits(hot_run, args.clients)
    spread_x = spread_run.rate / hot_run.rate if hot_run.rate else float("nan")
    print(f"  {spread_label:<{width}} {spread_run.rate:>9,.0f} pairs/s   ({spread_x:.2f} x hot)")
    print_waits(spread_run, args.clients)
    print(
        f"  reservations refused for insufficient credits: {hot_run.refused} hot, "
        f"{spread_run.refused} spread (expected 0)"
    )
    if hot_run.reserve_s and hot_run.settle_s:
        print(
            f"  hot account latency: reserve p50 {ms(percentile(hot_run.reserve_s, 50))}"
            f" p99 {ms(percentile(hot_run.reserve_s, 99))};"
            f" settle p50 {ms(percentile(hot_run.settle_s, 50))}"
            f" p99 {ms(percentile(hot_run.settle_s, 99))}"
        )
    print(
        f"  overdraft test: {held} of {args.overdraft_attempts} reservations held against a "
        f"balance for {args.overdraft_covers}; final available {available / MICRO:g}, "
        f"held {held_micro / MICRO:g} credits ({open_holds} open holds); overdrafts: {overdrafts}"
    )
    print(
        f"  ledger invariants (available = sum(available_delta) = unexpired remaining, "
        f"held = sum(held_delta) = open holds): {mismatches} accounts out of step"
    )
    print(
        f"  this process's CPU (1.0 = one core): bare {bare.client_cpu:.2f}, "
        f"hot {hot_run.client_cpu:.2f}, spread {spread_run.client_cpu:.2f}"
    )


async def create_database(server: str) -> str:
    database = f"bench_ledger_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url(server))
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return database


async def drop_database(server: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url(server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--pool-size", type=int, default=64)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--overdraft-covers", type=int, default=50)
    parser.add_argument("--overdraft-attempts", type=int, default=200)
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off", "local", "remote_write", "remote_apply"],
        help="for the benchmark's sessions only (default: the server's setting)",
    )
    parser.add_argument("--waits", action="store_true", help="sample pg_stat_activity wait events")
    parser.add_argument(
        "--no-batching",
        action="store_true",
        help="one transaction per ledger operation instead of the service's per-account batches",
    )
    args = parser.parse_args()
    database = asyncio.run(create_database(args.postgres))
    try:
        asyncio.run(bench(args, database))
    except KeyboardInterrupt:
        print("interrupted")
        raise SystemExit(130) from None
    finally:
        asyncio.run(drop_database(args.postgres, database))
        print(f"(dropped the benchmark database {database})")


if __name__ == "__main__":
    main()
