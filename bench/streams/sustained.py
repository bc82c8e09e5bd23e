"""(a') Time to first token through chat against the simulator's own with that many streams
open all along, new ones starting as others end: what a user sees on a platform serving that
many answers, as opposed to that many users pressing send in the same millisecond."""

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import (
    CpuMeter,
    LogWatch,
    Platform,
    Settler,
    Stream,
    User,
    chat_stream,
    print_backlog,
    print_cpu,
    print_log,
    prompt,
    stack_processes,
)

from .answers import PACE, simulator_openai
from .ttft import TtftRow, histogram_delta, print_ttft_rows, ttft_histogram


async def sustained(
    count: int, rounds: int, seconds: float, start: Callable[[int, int, Stream], Awaitable[None]]
) -> tuple[list[float], collections.Counter[str]]:
    """``count`` streams open at once, kept there: each of ``count`` workers runs ``rounds``
    streams back to back, the workers' first streams spread over one answer's length
    (``seconds``) rather than all sent together. The first round (the ramp) is not counted."""
    results = [[Stream() for _ in range(rounds)] for _ in range(count)]

    async def worker(w: int) -> None:
        await asyncio.sleep(w * seconds / count)
        for r in range(rounds):
            await start(r * count + w, w, results[w][r])

    await asyncio.gather(*(worker(w) for w in range(count)))
    counted = [result for mine in results for result in mine[1:]]
    errors = collections.Counter(r.outcome for r in counted if r.outcome != "complete")
    return [r.ttft for r in counted if r.ttft is not None], errors


@dataclass
class TtftSustained:
    rows: list[TtftRow]

    def summary(self) -> list[str]:
        return [row.summary(f"(a') overhead, {row.concurrency:>3} open") for row in self.rows]


async def section_ttft_sustained(
    platform: Platform, levels: list[int], rounds: int, tokens: int
) -> TtftSustained:
    message = prompt("Benchmark: answer at a steady pace.", tokens=tokens, per_second=PACE)
    seconds = tokens / PACE
    pairs = await platform.prepare(sum(level * rounds for level in levels), "(a')")
    started = time.perf_counter()
    processes = stack_processes()
    settle = Settler(processes)
    meter, watch = CpuMeter(processes).start(), LogWatch().start()
    used, rows = 0, []
    for level in levels:
        row = TtftRow(level)
        mine = pairs[used : used + level * rounds]
        used += level * rounds

        async def chat_one(
            i: int, w: int, result: Stream, mine: list[tuple[User, str]] = mine
        ) -> None:
            user, session_id = mine[i]
            await chat_stream(platform.streams.client(w), user, session_id, message, result)

        async def direct_one(i: int, w: int, result: Stream) -> None:
            await simulator_openai(platform.simulator.client(w), message, result)

        await platform.simulator.warm(level)
        row.direct, errors = await sustained(level, rounds, seconds, direct_one)
        row.errors.update(errors)
        await settle()
        await platform.streams.warm(level)
        before = await ttft_histogram(platform.chat)
        row.chat, errors = await sustained(level, rounds, seconds, chat_one)
        row.errors.update(errors)
        row.server = histogram_delta(before, await ttft_histogram(platform.chat))
        rows.append(row)
        await settle()
    cores, logged = meter.stop(), watch.stop()

    print(
        f"(a') time to first token with that many streams open all along, {tokens}-token answers "
        f"at {PACE:g} tokens/s, a new stream as one ends ({time.perf_counter() - started:.0f} s):"
    )
    print_ttft_rows(rows, with_bedrock=False)
    print(f"  {settle.report()}")
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    return TtftSustained(rows)
