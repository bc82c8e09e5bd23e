"""The ledger benchmark's command line: a throwaway database, the scenarios, the figures."""

import argparse
import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from accounting.database import MIGRATIONS
from accounting.ledger.batcher import AccountBatcher
from bench.harness import run
from pg_migrations import apply_migrations

from . import __doc__ as DOC
from .invariants import count_problems, overdraft_test
from .report import Figures, print_figures
from .scenarios import (
    FUNDING_MICRO,
    Unbatched,
    bare_update,
    funded_account,
    measure,
    reserve_and_settle,
)

POOL_CLOSE_SECONDS = 10


def database_url(server: str, database: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{database}"))


def admin_url(server: str) -> str:
    parts = urlsplit(server)
    return server if parts.path not in ("", "/") else database_url(server, "postgres")


async def scenarios(args: argparse.Namespace, database: str) -> Figures:
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
        each = (args.clients, args.seconds)
        bare = await measure(*each, bare_update(pool), waits)
        batcher = Unbatched(pool) if args.no_batching else AccountBatcher(pool)
        hot_run = await measure(*each, reserve_and_settle(batcher, hot, timed=True), waits)
        spread_run = await measure(
            *each, reserve_and_settle(batcher, list(spread), timed=False), waits
        )
        overdraft = await overdraft_test(
            pool, batcher, args.overdraft_covers, args.overdraft_attempts
        )
        overdrafts, mismatches = await count_problems(pool)
    finally:
        try:
            await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            pool.terminate()
            raise
    return Figures(
        str(version), str(sync), bare, hot_run, spread_run, overdraft, overdrafts, mismatches
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


async def bench(args: argparse.Namespace) -> int:
    database = await create_database(args.postgres)
    try:
        print_figures(args, await scenarios(args, database))
    finally:
        # Shielded: on Ctrl-C the database is dropped all the same.
        await asyncio.shield(drop_database(args.postgres, database))
        print(f"(dropped the benchmark database {database})")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger", description=(DOC or "").splitlines()[0]
    )
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
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(bench(parse()))
