"""What the ledger benchmark runs from many clients at once, and how it measures them."""

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
from typing import TypeVar

import asyncpg

from accounting.accounts.repository import get_or_create
from accounting.credits.amounts import MICRO
from accounting.database import Connection
from accounting.ledger import repository as ledger
from accounting.ledger.batcher import AccountBatcher

HOLD_MICRO = 1 * MICRO  # what every reservation holds
CHARGE_MICRO = MICRO // 4  # what every settlement charges (the rest goes back)
FUNDING_MICRO = 1_000_000 * MICRO  # per account up front: never runs out in a benchmark
MODEL = "bench-model"
WAIT_SAMPLE_SECONDS = 0.01

T = TypeVar("T")
Account = tuple[uuid.UUID, str]  # (account id, owner id)


@dataclass
class Run:
    """What one scenario measured."""

    elapsed: float = 0.0
    done: int = 0  # bare updates, or completed reserve+settle pairs
    refused: int = 0  # reservations refused for insufficient credits
    reserve_s: list[float] = field(default_factory=list)
    settle_s: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # this process's CPU time / wall time (1.0 = one core busy)
    waits: collections.Counter[str] = field(default_factory=collections.Counter)
    samples: int = 0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0


Step = Callable[[Run], Awaitable[None]]


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
                await asyncio.wait_for(stop.wait(), WAIT_SAMPLE_SECONDS)
    finally:
        await conn.close()


async def measure(
    clients: int, seconds: float, step: Step, waits_dsn: tuple[str, str] | None
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


def bare_update(pool: asyncpg.Pool) -> Step:
    async def step(run: Run) -> None:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
        run.done += 1

    return step


class Unbatched:
    """Each operation in its own transaction (what --no-batching measures)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def run(
        self, account_id: uuid.UUID, operation: Callable[[Connection], Awaitable[T]]
    ) -> T:
        async with self._pool.acquire() as conn:
            return await operation(conn)


Batcher = AccountBatcher | Unbatched


def reserve(
    account: Account, streaming_session_id: uuid.UUID, expires_at: datetime
) -> Callable[[Connection], Awaitable[ledger.HoldOutcome]]:
    """A reservation of HOLD_MICRO on ``account``, as chat asks for one."""
    account_id, user_id = account
    return partial(
        ledger.reserve,
        streaming_session_id=streaming_session_id,
        account_id=account_id,
        user_id=user_id,
        session_id=str(uuid.uuid4()),
        model_id=MODEL,
        estimated_tokens=1000,
        amount_micro=HOLD_MICRO,
        expires_at=expires_at,
    )


def reserve_and_settle(batcher: Batcher, accounts: list[Account], *, timed: bool) -> Step:
    expires_at = datetime.now(UTC) + timedelta(hours=1)

    async def step(run: Run) -> None:
        account = random.choice(accounts)
        streaming_session_id = uuid.uuid4()
        started = time.perf_counter()
        hold = await batcher.run(account[0], reserve(account, streaming_session_id, expires_at))
        if timed:
            run.reserve_s.append(time.perf_counter() - started)
        if not hold.held:
            run.refused += 1
            return
        started = time.perf_counter()
        await batcher.run(
            account[0],
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


async def funded_account(pool: asyncpg.Pool, owner_id: str, amount_micro: int) -> Account:
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
