"""(d) The CPU each process of the stack spends on one 8-token answer, from /proc: what a burst
in (a) queues for."""

import asyncio
import collections
import time
from dataclasses import dataclass

from bench.harness import Platform, Settler, Stream, chat_stream, cpu_seconds, stack_processes
from bench.harness.proc import ORDER

from .answers import BRIEF


@dataclass
class StackCpu:
    per_answer_ms: float  # the whole stack's CPU milliseconds per answer

    def summary(self) -> list[str]:
        return [f"  (d) the stack's CPU per 8-token answer  {self.per_answer_ms:9.1f} ms"]


async def section_stack_cpu(platform: Platform, streams: int, concurrency: int) -> StackCpu:
    """``streams`` answers, ``concurrency`` at a time, /proc utime+stime of every process of
    the stack from before to after, until chat and MongoDB are quiet."""
    pairs = await platform.prepare(streams, "(d)")
    processes = stack_processes()
    settle = Settler(processes)
    await settle()
    await platform.streams.warm(concurrency)
    before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in processes.items()}
    gate = asyncio.Semaphore(concurrency)
    results = [Stream() for _ in pairs]

    async def one(i: int) -> None:
        user, session_id = pairs[i]
        async with gate:
            await chat_stream(
                platform.streams.client(i % concurrency), user, session_id, BRIEF, results[i]
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(pairs))))
    elapsed = time.perf_counter() - started
    await settle()  # what follows an answer: storing it, settling it, its usage event
    after = {name: sum(cpu_seconds(p) for p in pids) for name, pids in processes.items()}
    per_stream = {
        name: (after[name] - before[name]) * 1000 / max(1, len(pairs)) for name in processes
    }
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    print(
        f"(d) CPU per 8-token answer, {len(pairs)} answers {concurrency} at a time "
        f"({elapsed:.1f} s, then until chat and MongoDB are quiet):"
    )
    names = [n for n in ORDER if n in per_stream] + [n for n in per_stream if n not in ORDER]
    print("  " + "  ".join(f"{n} {per_stream[n]:.2f}" for n in names if per_stream[n] >= 0.005))
    total = sum(per_stream.values())
    print(f"  the stack, in all: {total:.1f} ms of CPU per answer")
    if errors:
        print(f"  errors: {dict(errors)}")
    return StackCpu(total)
