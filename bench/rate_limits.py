"""The edge rate limit's check: the hand-written counter it replaced, the ``limits`` library's
fixed-window strategy, and ``rate_limits.FixedWindow`` (the lib the services use now).

    uv run --frozen python -m bench.rate_limits [--redis redis://127.0.0.1:6379/0]
                                                [--checks 5000] [--rounds 3] [--concurrency 1,100]

The gateway checks its edge limit on every request it forwards, so this is its hot path. Each
contender counts one hit per check on one shared redis-py pool (hiredis), over 100 buckets,
in one process and run, the rounds interleaved:

  hand-written   the gateway's former ``EdgeRateLimiter``: ``pipeline(transaction=False)``
                 with INCR and EXPIRE of ``{prefix}:{bucket}:{minute}``; Retry-After from the
                 clock.
  limits         ``limits.aio.strategies.FixedWindowRateLimiter.hit`` on its asyncio
                 ``RedisStorage`` (redis-py, the same pool); a refused hit then asks
                 ``get_window_stats`` for its Retry-After, as a service must.
  rate_limits    ``rate_limits.FixedWindow.hit``: the ``limits`` storage's INCRBY+EXPIRE
                 script on the same pool, clock windows, Retry-After from the clock.

Two cases: every hit allowed (a limit nobody reaches) and every hit refused (a limit of 0:
a flood). Per contender, case and number of concurrent callers: checks per second, this
process's CPU per check, and round trips to Redis per check (requests the pool's connections
sent: a pipeline or a script call is one). Targets, allowed or refused: at most 250 us of the
gateway's CPU per check (a quarter of the 1 ms p50 the whole gateway may add to a request,
bench/gateway.py) and one round trip. The rule: the library is kept unless it misses a target
by more than 1.5x. Keys are under ``bench:rate-limits:*`` and deleted at the end.
"""

import argparse
import asyncio
import logging
import math
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from rate_limits import FailOpen, FixedWindow

TARGET_CPU_US = 250.0
TARGET_ROUND_TRIPS = 1.0
KEPT_WITHIN = 1.5
BUCKETS = 100
WINDOW = 60
ALLOWED, REFUSED = 10**9, 0  # the limits of the two cases


class CountingConnection(redis.Connection):
    """redis-py's connection, counting the requests it sends (a pipeline is one)."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


class HandWritten:
    """The gateway's counting before ``rate_limits`` (services/gateway, limits/edge_limit.py)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    async def check(self, bucket: str, limit: int) -> int | None:
        now = time.time()
        window = int(now // WINDOW)
        key = f"{self._prefix}:{bucket}:{window}"
        async with self._redis.pipeline(transaction=False) as pipe:
            count, _ = await pipe.incr(key).expire(key, 2 * WINDOW).execute()
        if count > limit:
            return max(1, (window + 1) * WINDOW - int(now))
        return None


class LimitsStrategy:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=prefix,
            connection_pool=client.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = FixedWindowRateLimiter(storage)
        self._items = {n: RateLimitItemPerMinute(n) for n in (ALLOWED, REFUSED)}

    async def check(self, bucket: str, limit: int) -> int | None:
        item = self._items[limit]
        if await self._limiter.hit(item, bucket):
            return None
        stats = await self._limiter.get_window_stats(item, bucket)
        return max(1, math.ceil(stats.reset_time - time.time()))


class Library:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        fail_open = FailOpen(logging.getLogger("bench"), "bench limit unavailable")
        self._windows = FixedWindow(client, prefix=prefix, fail_open=fail_open)

    async def check(self, bucket: str, limit: int) -> int | None:
        count = await self._windows.hit(bucket, limit)
        assert count is not None, "Redis did not answer"
        return count.retry_after if count.exceeded else None


Check = Callable[[str, int], Awaitable[int | None]]


@dataclass(frozen=True)
class Figure:
    per_second: float
    cpu_us: float
    round_trips: float


async def measure(check: Check, limit: int, checks: int, concurrency: int) -> Figure:
    buckets = [f"b{n}" for n in range(BUCKETS)]
    expect_refused = limit == REFUSED

    async def caller(first: int) -> None:
        for n in range(first, checks, concurrency):
            refused = await check(buckets[n % BUCKETS], limit)
            assert (refused is not None) == expect_refused, refused
            assert refused is None or 1 <= refused <= WINDOW, refused

    for n in range(200):  # warm: connections made, scripts loaded
        await check(buckets[n % BUCKETS], limit)
    sent = CountingConnection.sent
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller(first) for first in range(concurrency)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Figure(checks / wall, cpu / checks * 1e6, (CountingConnection.sent - sent) / checks)


async def run(options: argparse.Namespace) -> dict[tuple[str, str, int], list[Figure]]:
    prefix = f"bench:rate-limits:{uuid.uuid4().hex[:8]}"
    pool = redis.ConnectionPool.from_url(
        options.redis,
        connection_class=CountingConnection,
        max_connections=max(options.concurrency) + 10,
    )
    client = redis.Redis(connection_pool=pool)
    contenders: dict[str, Check] = {
        "hand-written": HandWritten(client, f"{prefix}:old").check,
        "limits": LimitsStrategy(client, f"{prefix}:limits").check,
        "rate_limits": Library(client, f"{prefix}:lib").check,
    }
    figures: dict[tuple[str, str, int], list[Figure]] = {}
    try:
        for round_number in range(options.rounds):
            print(f"round {round_number + 1}/{options.rounds}", file=sys.stderr)
            for case, limit in (("allowed", ALLOWED), ("refused", REFUSED)):
                for concurrency in options.concurrency:
                    for name, check in contenders.items():
                        figure = await measure(check, limit, options.checks, concurrency)
                        figures.setdefault((name, case, concurrency), []).append(figure)
    finally:
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            await client.delete(key)
        await client.aclose()
        await pool.aclose()
    return figures


def verdict(cpu_us: float, round_trips: float) -> str:
    worst = max(cpu_us / TARGET_CPU_US, round_trips / TARGET_ROUND_TRIPS)
    if worst <= 1:
        return "met"
    return f"{worst:.2f}x the target: " + ("within 1.5x" if worst <= KEPT_WITHIN else "MISSED")


def report(figures: dict[tuple[str, str, int], list[Figure]], rounds: int) -> None:
    print(
        f"edge limit check, median of {rounds} rounds; targets per check: <= "
        f"{TARGET_CPU_US:.0f} us CPU and <= {TARGET_ROUND_TRIPS:.0f} round trip "
        f"(a library is kept within {KEPT_WITHIN}x)\n"
    )
    print(
        f"{'case':8} {'callers':>7}  {'contender':13} {'checks/s':>9} {'CPU us':>7} "
        f"{'trips':>5}  {'CPU vs hand-written':>19}  target"
    )
    for case, concurrency in sorted({(c, n) for _, c, n in figures}):
        base = statistics.median(f.cpu_us for f in figures[("hand-written", case, concurrency)])
        for name in ("hand-written", "limits", "rate_limits"):
            runs = figures[(name, case, concurrency)]
            cpu = statistics.median(f.cpu_us for f in runs)
            per_second = statistics.median(f.per_second for f in runs)
            trips = statistics.median(f.round_trips for f in runs)
            print(
                f"{case:8} {concurrency:>7}  {name:13} {per_second:>9,.0f} {cpu:>7.0f} "
                f"{trips:>5.2f}  {cpu / base:>18.2f}x  {verdict(cpu, trips)}"
            )
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(n) for n in s.split(",")], default=[1, 100]
    )
    options = parser.parse_args()
    report(asyncio.run(run(options)), options.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
