"""(b1, b2) Streams held by 1 and by 2 chat worker processes (WORKERS), side by side: (b)'s
ramp on a copy of the stack's chat started with that many workers, one copy at a time, its
memory and CPU those of its supervisor and workers together.

Each copy gets its own port, name (pid file, log) and metrics directory: the stack's chat
keeps serving meanwhile, and its workers' multiprocess metrics must not count the copy's."""

import argparse
import asyncio
import contextlib
import math
import shutil
import time
from dataclasses import dataclass

from bench.harness import (
    NotReady,
    Platform,
    Pools,
    Settler,
    Target,
    descendants,
    met,
    new_client,
    print_backlog,
    service_copy,
    service_pid,
    stack_processes,
)
from bench.harness.settings import ROOT

from .answers import PACE
from .capacity import Chat, Ramp, climb

PORT = 3020  # a copy with n workers listens on PORT + n
METRICS_DIRS = ROOT / ".local" / "metrics"  # a directory per copy, emptied, removed after
ONE_CORE = Target(500, at_most=False)  # streams one worker (one core) holds
SCALING = 0.85  # n workers hold at least n times this times what one does: 1.7x for 2
WORKERS_SECONDS = 60  # for a copy's workers to start, after the first answers
WARM_SECONDS = 30  # for them to finish importing, before the first level


@dataclass
class WorkerCount:
    workers: int
    best: int  # the highest level held
    stop: str  # why the next level was not
    cores: float | None  # the copy's CPU, in cores, over the highest level held
    kib_per_stream: float | None


@dataclass
class Workers:
    counts: list[WorkerCount]

    def summary(self) -> list[str]:
        one = next((c for c in self.counts if c.workers == 1), None)
        if one is None:
            return []
        lines = [
            f"  (b1) streams held by 1 chat worker (one core)  {one.best:>9,}    "
            f"{ONE_CORE.bound} {met(ONE_CORE.ok(one.best))}"
        ]
        for count in self.counts:
            if count.workers > 1:
                ratio = count.best / one.best if one.best else math.nan
                wanted = SCALING * count.workers
                lines.append(
                    f"  (b{count.workers}) {count.workers} workers / 1 worker  "
                    f"{f'{ratio:9.2f}x' if one.best else '      n/a '}   "
                    f"(>= {wanted:g}x) {met(ratio >= wanted)}"
                )
        return lines


def worker_pids(pid: int) -> list[int]:
    """The uvicorn workers under a chat supervisor (multiprocessing's spawned children)."""
    found = []
    for child in descendants(pid)[1:]:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as file:
                if b"spawn_main" in file.read():
                    found.append(child)
        except OSError:
            continue
    return found


async def workers_started(pid: int, workers: int) -> bool:
    """Whether all the copy's workers run (its first answers readiness before the others
    are spawned); one worker is the process itself."""
    deadline = time.perf_counter() + WORKERS_SECONDS
    while workers > 1 and len(worker_pids(pid)) < workers:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.3)
    return True


async def on_copy(
    platform: Platform, args: argparse.Namespace, workers: int, levels: list[int]
) -> WorkerCount:
    name = f"chat-w{workers}"
    metrics = METRICS_DIRS / name
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    env = {"WORKERS": str(workers), "METRICS_DIR": str(metrics)}
    try:
        async with service_copy("chat", name, PORT + workers, env) as url:
            pid = service_pid(name)
            if pid is None or not await workers_started(pid, workers):
                return failed(workers, f"{name} did not start its {workers} workers")
            processes = stack_processes()  # now with the copy's workers
            await Settler(processes, chat=name)(WARM_SECONDS)
            pids = descendants(pid)
            print(
                f"  {name}: {workers} worker{'s' if workers > 1 else ''} on {url} "
                f"(pids {', '.join(map(str, pids))}; metrics in {metrics.relative_to(ROOT)})"
            )
            streams, client = Pools(url), new_client(url)
            settle = Settler(processes, chat=name)
            try:
                found = await climb(
                    platform, levels, args, settle, Chat(name, streams, client, lambda: pids)
                )
            finally:
                await streams.aclose()
                await client.aclose()
            print(f"  {settle.report()}")
    except NotReady as exc:
        return failed(workers, f"{name} did not start: {exc}")
    finally:
        shutil.rmtree(metrics, ignore_errors=True)
        with contextlib.suppress(OSError):
            METRICS_DIRS.rmdir()  # when no other copy's is left
    return figures(name, workers, found)


def failed(workers: int, why: str) -> WorkerCount:
    print(f"  {workers} worker{'s' if workers > 1 else ''}: not measured, {why}")
    return WorkerCount(workers, 0, why, None, None)


def figures(name: str, workers: int, found: Ramp) -> WorkerCount:
    held, largest = found.held, found.largest
    cores = held.cores.get(name) if held else None
    kib = largest.kib_per_stream if largest is not None and largest.peak else None
    count = WorkerCount(workers, found.best, found.stop, cores, kib)
    used = (
        f"chat used {cores:.2f} cores over that level"
        if cores is not None
        else "no level held to take chat's cores at"
    )
    memory = (
        f"{kib:.1f} KiB per stream (supervisor and workers' RSS, {largest.peak:,} at once)"
        if kib is not None and largest is not None
        else "memory per stream not measured"
    )
    print(
        f"  {workers} worker{'s' if workers > 1 else ''}: highest level held {found.best:,} "
        f"streams; next: {found.stop}; {used}; {memory}"
    )
    return count


async def section_workers(platform: Platform, args: argparse.Namespace) -> Workers:
    counts = [int(n) for n in args.worker_counts.split(",") if n]
    levels = [int(n) for n in args.worker_levels.split(",") if n]
    print(
        f"(b1, b2) concurrent streams at {PACE:g} tokens/s on a copy of chat with "
        f"{', then '.join(map(str, counts))} workers, started at {args.start_rate:g}/s, all "
        f"together for {args.hold_seconds:g} s; --budget {args.budget:g} s per copy:"
    )
    results = []
    for workers in counts:
        results.append(await on_copy(platform, args, workers, levels))
    await print_backlog()
    return Workers(results)
