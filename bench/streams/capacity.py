"""(b) Levels of concurrent streams at PACE tokens/s on the stack's chat (all its workers): the
highest level held, and chat's memory per stream. The ramp runs against any chat (`Chat`):
(b1, b2) climb it on copies of chat with more workers (workers.py)."""

import argparse
import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.harness import (
    RUN_DIR,
    CpuMeter,
    LogWatch,
    Platform,
    Pools,
    Settler,
    Stream,
    Target,
    chat_stream,
    descendants,
    percentile,
    print_backlog,
    print_cpu,
    print_log,
    prompt,
    rss_kib,
    service_pid,
    stack_processes,
)
from bench.harness.quiet import SETTLE_SECONDS

from .answers import PACE

HELD = Target(2000, at_most=False)
AT_ONCE = 0.95  # of a level's streams streaming at the same time, for it to hold
SLOW = 0.9 * PACE  # a stream delivering under this is slow
SLOW_SHARE = 0.01  # at most this share of a level's streams slow, for it to hold


@dataclass
class Level:
    streams: int
    ramp: float
    tokens: int  # per stream
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    peak: int = 0  # streams between first chunk and end at one time (client side)
    server_active: float | None = None  # chat_active_streams at mid-level
    ttft: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    delivered: int = 0
    elapsed: float = 0.0
    rss_before: int = 0
    rss_peak: int = 0
    cores: dict[str, float] = field(default_factory=dict)
    logged: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def slow(self) -> int:
        return sum(1 for r in self.rates if r < SLOW)

    @property
    def held(self) -> bool:
        return (
            not self.errors
            and self.peak >= AT_ONCE * self.streams
            and self.slow <= SLOW_SHARE * self.streams
        )

    @property
    def kib_per_stream(self) -> float:
        return (self.rss_peak - self.rss_before) / max(1, self.peak)

    def why_not(self) -> str:
        reasons = []
        if self.errors:
            reasons.append(f"errors {dict(self.errors.most_common(4))}")
        if self.peak < AT_ONCE * self.streams:
            reasons.append(f"only {self.peak:,} streaming at once")
        if self.slow > SLOW_SHARE * self.streams:
            reasons.append(f"{self.slow:,} streams under {SLOW:g} tokens/s")
        return "; ".join(reasons)

    def record(self, results: list[Stream]) -> None:
        for result in results:
            if result.outcome != "complete":
                self.errors[result.outcome or "unfinished at the deadline"] += 1
            elif result.chunks != self.tokens:
                self.errors[f"{result.chunks} of {self.tokens} chunks"] += 1
            if result.ttft is not None:
                self.ttft.append(result.ttft)
            if (rate := result.rate()) is not None:
                self.rates.append(rate)
            self.delivered += result.chunks


async def server_active_streams(client: httpx.AsyncClient) -> float | None:
    try:
        text = (await client.get("/metrics", timeout=5)).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("chat_active_streams "):
            return float(line.split()[1])
    return None


@dataclass
class Chat:
    """The chat a ramp streams to: the stack's, or a copy of it with its own clients."""

    name: str  # its pid file's and log's name (.local/run, .local/logs)
    streams: Pools  # the streams' clients
    client: httpx.AsyncClient  # for its /metrics
    pids: Callable[[], list[int]]  # the processes whose memory is its memory


def stack_chat(platform: Platform) -> Chat:
    """The stack's chat, its memory the pid file's process's and its workers'."""

    def pids() -> list[int]:
        pid = service_pid("chat")
        return descendants(pid) if pid else []

    return Chat("chat", platform.streams, platform.chat, pids)


async def run_level(
    platform: Platform, count: int, start_rate: float, hold: float, settle: Settler, chat: Chat
) -> Level:
    ramp = count / start_rate
    # Every stream lasts the whole ramp plus the hold: the last one starts as the first is
    # still streaming, and all of them run together for `hold` seconds.
    level = Level(count, ramp, round(PACE * (ramp + hold)))
    pairs = await platform.prepare(count, f"{count:,} streams")
    if len(pairs) < count:
        level.errors["no session"] = count - len(pairs)
        return level
    message = prompt("Benchmark: tell me a long story.", tokens=level.tokens, per_second=PACE)
    chat_pids = chat.pids()

    def rss() -> int:
        return sum(rss_kib(pid) for pid in chat_pids)

    await settle()
    await chat.streams.warm(count)
    level.rss_before = level.rss_peak = rss()
    results = [Stream() for _ in pairs]
    meter, watch = CpuMeter(settle.processes).start(), LogWatch(chat.name).start()
    begin = time.perf_counter()

    async def one(i: int) -> None:
        await asyncio.sleep(begin + ramp * i / count - time.perf_counter())
        user, session_id = pairs[i]
        await chat_stream(chat.streams.client(i), user, session_id, message, results[i])

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    deadline = begin + 2 * ramp + hold + 10
    probed = False
    while not all(t.done() for t in tasks) and time.perf_counter() < deadline:
        await asyncio.sleep(0.25)
        level.peak = max(level.peak, sum(1 for r in results if r.streaming))
        if chat_pids:
            level.rss_peak = max(level.rss_peak, rss())
        if not probed and time.perf_counter() > begin + ramp + hold / 2:
            probed = True
            level.server_active = await server_active_streams(chat.client)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    level.elapsed = time.perf_counter() - begin
    level.cores, level.logged = meter.stop(), watch.stop()
    level.record(results)
    return level


def print_level(level: Level) -> None:
    server = "?" if level.server_active is None else f"{level.server_active:,.0f}"
    print(
        f"  {level.streams:>5,} streams started over {level.ramp:.1f} s, {level.tokens} tokens "
        f"each: errors {sum(level.errors.values()):,}, at once {level.peak:,} "
        f"(chat_active_streams {server})"
    )
    print(
        f"  {'':8}time to first token p50 {percentile(level.ttft, 50) * 1000:,.0f} ms, "
        f"p99 {percentile(level.ttft, 99) * 1000:,.0f} ms; tokens/s per stream p50 "
        f"{percentile(level.rates, 50):.1f}, slowest 1% {percentile(level.rates, 1):.1f}, "
        f"{level.slow:,} under {SLOW:g}; all streams "
        f"{level.delivered / max(level.elapsed, 1e-9):,.0f} tokens/s"
    )
    print(
        f"  {'':8}chat RSS {level.rss_before / 1024:.0f} MiB before, "
        f"{level.rss_peak / 1024:.0f} MiB at the peak: {level.kib_per_stream:.1f} KiB per stream"
    )
    print_cpu(level.cores)
    print_log(level.logged)


@dataclass
class Capacity:
    best: int  # the highest level held

    def summary(self) -> list[str]:
        return [
            f"  (b) streams held at {PACE:g} tokens/s  {self.best:>9,}    "
            f"{HELD.bound} {'met' if HELD.ok(self.best) else 'MISSED'}"
        ]


@dataclass
class Ramp:
    """What climbing the levels found."""

    best: int = 0  # the highest level held
    held: Level | None = None  # that level
    largest: Level | None = None  # the level with the most streams at once
    stop: str = "no higher level asked for"  # why it went no higher


async def climb(
    platform: Platform, levels: list[int], args: argparse.Namespace, settle: Settler, chat: Chat
) -> Ramp:
    """``levels`` in turn on ``chat``, until one is not held (when none has held yet, halving
    the first down to --min-level) or --budget seconds are spent."""
    ends = time.perf_counter() + args.budget
    found = Ramp()
    todo = list(levels)
    while todo:
        count = todo.pop(0)
        ramp = count / args.start_rate
        # The level, its sessions and the settling before it, when it holds (one that does not
        # may take 10 s more).
        needed = 2 * ramp + args.hold_seconds + count / 60 + SETTLE_SECONDS
        if time.perf_counter() + needed > ends:
            found.stop = (
                f"stopped before {count:,} streams: the time budget "
                f"(--budget {args.budget:g} s) is spent"
            )
            print(f"  {found.stop}")
            break
        level = await run_level(platform, count, args.start_rate, args.hold_seconds, settle, chat)
        print_level(level)
        if found.largest is None or level.peak > found.largest.peak:
            found.largest = level
        if not level.held:
            found.stop = f"{count:,} streams not held: {level.why_not()}"
            print(f"  {found.stop}")
            if found.best == 0 and count // 2 >= args.min_level:
                todo = [count // 2]  # nothing held yet: look below the first level
                continue
            break
        found.best, found.held = count, level
    return found


async def section_capacity(platform: Platform, args: argparse.Namespace) -> Capacity:
    levels = [int(n) for n in args.levels.split(",")]
    chat_pid = service_pid("chat")
    print(
        f"(b) concurrent streams on the stack's chat (pid {chat_pid} and its workers) at "
        f"{PACE:g} tokens/s each, started at {args.start_rate:g}/s, all together for "
        f"{args.hold_seconds:g} s:"
    )
    if chat_pid is None:
        print(f"  no chat pid in {RUN_DIR}/chat.pid: memory is not measured")
    settle = Settler(stack_processes())
    found = await climb(platform, levels, args, settle, stack_chat(platform))
    best, largest = found.best, found.largest
    print(f"  {settle.report()}")
    print(f"  highest level held: {best:,} streams (target >= 2,000)")
    if largest is not None and largest.peak:
        # CPython keeps the memory it frees for reuse: RSS grows only past the process's
        # earlier peak, so the level with the most streams at once is the one to divide by,
        # and the figure is a lower bound when earlier load (this run's or not) grew it.
        print(
            f"  chat memory per stream: {largest.kib_per_stream:.1f} KiB (RSS "
            f"{largest.rss_before / 1024:.0f} MiB before the level, "
            f"{largest.rss_peak / 1024:.0f} MiB with {largest.peak:,} streams at once; "
            f"{platform.chat_rss_start / 1024:.0f} MiB when this run began)"
        )
    await print_backlog()
    return Capacity(best)
