"""The service's pool: a released connection costs no reset round trip, and still comes back
without a transaction left open (real PostgreSQL)."""

from collections.abc import AsyncIterator

import pytest_asyncio

from accounting.database import ALL_MIGRATIONS
from pg_migrations import migrated_pool


@pytest_asyncio.fixture(loop_scope="session")
async def pool(accounting_settings, app) -> AsyncIterator:
    opened = await migrated_pool(
        accounting_settings.database_url,
        ALL_MIGRATIONS,
        accounting_settings.model_copy(
            update={"database_pool_min_size": 1, "database_pool_max_size": 1}
        ),
        session_state=False,  # as main.py opens it
    )
    yield opened
    await opened.close()


async def test_a_released_connection_sends_no_reset_query(pool):
    sent: list[str] = []

    def record(logged) -> None:
        sent.append(logged.query)

    async with pool.acquire() as conn:
        conn.add_query_logger(record)  # on the connection itself: it outlives this lending
        backend = await conn.fetchval("SELECT pg_backend_pid()")
    async with pool.acquire() as again:
        sent_on_release = list(sent)
        again.remove_query_logger(record)
        assert await again.fetchval("SELECT pg_backend_pid()") == backend  # the same one
    # asyncpg's default reset sends its script (advisory unlock, CLOSE ALL, UNLISTEN, RESET
    # ALL) here as well.
    assert sent_on_release == ["SELECT pg_backend_pid()"]


async def test_a_transaction_left_open_is_still_rolled_back_on_release(pool):
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("CREATE TEMP TABLE left_open (n int)")
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
