import asyncio
import uuid

import asyncpg
import pytest
import pytest_asyncio

from accounting.ledger.batcher import AccountBatcher


@pytest_asyncio.fixture(loop_scope="session")
async def counter(db):
    table = f"batch_probe_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n int NOT NULL)")
    await db.execute(f"INSERT INTO {table} VALUES (1, 0)")
    yield table
    await db.execute(f"DROP TABLE {table}")


def increment(table):
    async def op(conn: asyncpg.Connection) -> int:
        return await conn.fetchval(f"UPDATE {table} SET n = n + 1 WHERE id = 1 RETURNING n")

    return op


async def test_concurrent_operations_on_one_account_share_commits(db, counter):
    batcher = AccountBatcher(db)
    account = uuid.uuid4()
    results = await asyncio.gather(*(batcher.run(account, increment(counter)) for _ in range(100)))
    assert sorted(results) == list(range(1, 101))
    assert await db.fetchval(f"SELECT n FROM {counter}") == 100
    assert batcher.batches_committed < 100


async def test_a_failing_operation_fails_only_its_caller(db, counter):
    batcher = AccountBatcher(db)
    account = uuid.uuid4()

    async def broken(conn):
        await conn.execute("SELECT * FROM no_such_table")

    outcomes = await asyncio.gather(
        batcher.run(account, increment(counter)),
        batcher.run(account, broken),
        batcher.run(account, increment(counter)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], asyncpg.UndefinedTableError)
    assert sorted(o for i, o in enumerate(outcomes) if i != 1) == [1, 2]
    assert await db.fetchval(f"SELECT n FROM {counter}") == 2


async def test_a_caller_cancelled_before_its_turn_is_skipped(db, counter):
    batcher = AccountBatcher(db)
    account = uuid.uuid4()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(conn):
        started.set()
        await release.wait()
        return await increment(counter)(conn)

    first = asyncio.create_task(batcher.run(account, slow))
    await started.wait()
    queued = asyncio.create_task(batcher.run(account, increment(counter)))
    await asyncio.sleep(0)
    queued.cancel()
    release.set()
    assert await first == 1
    with pytest.raises(asyncio.CancelledError):
        await queued
    await asyncio.sleep(0.05)
    assert await db.fetchval(f"SELECT n FROM {counter}") == 1


async def test_accounts_are_batched_separately(db, counter):
    batcher = AccountBatcher(db)
    results = await asyncio.gather(
        *(batcher.run(uuid.uuid4(), increment(counter)) for _ in range(10))
    )
    assert sorted(results) == list(range(1, 11))
