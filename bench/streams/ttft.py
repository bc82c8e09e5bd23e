"""(a) Time to first token through chat against the model simulator's own, in bursts of
concurrent streams sent at once on a settled stack."""

import collections
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench.harness import (
    MODEL,
    CpuMeter,
    LogWatch,
    Platform,
    Settler,
    Stream,
    Target,
    chat_stream,
    percentile,
    print_backlog,
    print_cpu,
    print_log,
    stack_processes,
)

from .answers import BRIEF, DirectRoute, burst, simulator_bedrock, simulator_openai

OVERHEAD_P50 = Target(0.005, unit="ms", scale=1000)
OVERHEAD_P99 = Target(0.020, unit="ms", scale=1000)
WARMUP = 10  # streams of each route before anything is measured
Burst = Callable[[int], Awaitable[tuple[list[float], collections.Counter[str]]]]


@dataclass
class TtftRow:
    concurrency: int
    direct: list[float] = field(default_factory=list)  # OpenAI route
    bedrock: list[float] = field(default_factory=list)
    chat: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    server: dict[float, float] = field(default_factory=dict)  # chat's histogram, this row's

    def overhead(self) -> tuple[float, float]:
        return (
            percentile(self.chat, 50) - percentile(self.direct, 50),
            percentile(self.chat, 99) - percentile(self.direct, 99),
        )

    def summary(self, label: str) -> str:
        p50, p99 = self.overhead()
        return f"  {label}    p50 {OVERHEAD_P50.show(p50):28}   p99 {OVERHEAD_P99.show(p99)}"


async def ttft_histogram(client: httpx.AsyncClient) -> dict[float, float]:
    """chat_time_to_first_token_seconds for MODEL: upper bound (s) -> cumulative count. The
    chat process times it from starting the answer (its session found) to the first chunk:
    request limit, history, credit reservation, the model call and the first token."""
    try:
        text = (await client.get("/metrics", timeout=5)).text
    except httpx.HTTPError:
        return {}
    buckets = {}
    for line in text.splitlines():
        if line.startswith("chat_time_to_first_token_seconds_bucket") and MODEL in line:
            if bound := re.search(r'le="([^"]+)"', line):
                buckets[float(bound.group(1))] = float(line.rsplit(" ", 1)[1])
    return buckets


def histogram_delta(before: dict[float, float], after: dict[float, float]) -> dict[float, float]:
    return {bound: after[bound] - before.get(bound, 0.0) for bound in after}


def bucket_percentile(buckets: dict[float, float], p: float) -> str:
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return "?"
    for bound in sorted(buckets):
        if buckets[bound] >= p / 100 * total:
            return f"<= {bound * 1000:,.0f} ms" if bound != math.inf else "> 10 s"
    return "?"


def print_ttft_rows(rows: list[TtftRow], *, with_bedrock: bool) -> None:
    print(f"  {'':36}{'streams':>8}{'p50 ms':>9}{'p99 ms':>9}{'samples':>9}")
    for row in rows:
        series = [("simulator, OpenAI route (direct)", row.direct)]
        if with_bedrock:
            series.append(("simulator, Bedrock route (direct)", row.bedrock))
        series.append(("chat service (Bedrock via boto3)", row.chat))
        for label, values in series:
            print(
                f"  {label:36}{row.concurrency:>8}{percentile(values, 50) * 1000:>9.1f}"
                f"{percentile(values, 99) * 1000:>9.1f}{len(values):>9}"
            )
        p50, p99 = row.overhead()
        print(
            f"  {'platform overhead (chat - OpenAI)':36}{row.concurrency:>8}{p50 * 1000:>9.1f}"
            f"{p99 * 1000:>9.1f}{'':>9}   (target p50 <= 5 ms, p99 <= 20 ms)"
        )
        print(
            f"  {'':4}of which chat's own (its TTFT histogram, from its session found to the "
            f"first chunk): p50 {bucket_percentile(row.server, 50)}, p99 "
            f"{bucket_percentile(row.server, 99)}"
        )
        if row.errors:
            print(f"  errors at {row.concurrency}: {dict(row.errors)}")


@dataclass
class TtftBursts:
    rows: list[TtftRow]

    def summary(self) -> list[str]:
        return [row.summary(f"(a) overhead at {row.concurrency:>3} streams") for row in self.rows]


async def section_ttft(platform: Platform, plan: list[tuple[int, int]]) -> TtftBursts:
    """``plan``: (concurrency, bursts) pairs, each burst of each route in turn."""
    pairs = await platform.prepare(WARMUP + sum(c * b for c, b in plan), "(a)")
    started = time.perf_counter()
    processes = stack_processes()
    settle = Settler(processes)
    meter, watch = CpuMeter(processes).start(), LogWatch().start()
    used = 0

    async def chat_burst(count: int) -> tuple[list[float], collections.Counter[str]]:
        nonlocal used
        mine = pairs[used : used + count]
        used += count

        async def start(i: int, result: Stream) -> None:
            user, session_id = mine[i]
            await chat_stream(platform.streams.client(i), user, session_id, BRIEF, result)

        await platform.streams.warm(len(mine))
        return await burst(len(mine), start)

    def direct_burst(route: DirectRoute) -> Burst:
        async def run(count: int) -> tuple[list[float], collections.Counter[str]]:
            await platform.simulator.warm(count)
            return await burst(count, lambda i, r: route(platform.simulator.client(i), BRIEF, r))

        return run

    openai_burst, bedrock_burst = direct_burst(simulator_openai), direct_burst(simulator_bedrock)
    for warm in (openai_burst, bedrock_burst, chat_burst):
        await warm(WARMUP)
    rows = []
    for concurrency, bursts in plan:
        row = TtftRow(concurrency)
        before = await ttft_histogram(platform.chat)
        for _ in range(bursts):
            routes: list[tuple[list[float], Burst]] = [
                (row.direct, openai_burst),
                (row.bedrock, bedrock_burst),
                (row.chat, chat_burst),
            ]
            for values, route in routes:
                if route is chat_burst:  # the direct bursts leave nothing behind
                    await settle()
                times, errors = await route(concurrency)
                values.extend(times)
                row.errors.update(errors)
        row.server = histogram_delta(before, await ttft_histogram(platform.chat))
        rows.append(row)
    cores, logged = meter.stop(), watch.stop()

    print(
        "(a) time to first token, 8-token answer, first-token delay 0, bursts of concurrent "
        f"streams ({time.perf_counter() - started:.0f} s):"
    )
    print_ttft_rows(rows, with_bedrock=True)
    print(f"  {settle.report()}")
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    return TtftBursts(rows)
