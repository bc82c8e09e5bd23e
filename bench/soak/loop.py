"""The soak itself: every user streaming back to back until the end, a row per minute."""

import argparse
import asyncio
import collections
import math
import os
import time
import uuid
from dataclasses import dataclass, field

from bench.harness import percentile, prompt, stack_rss

from .checks import dead_letter_count
from .report import summary
from .stack import Answer, SoakUser, Stack

REGISTER_CONCURRENCY = 4
ANSWER_GRACE_SECONDS = 5  # after a minute's last stream should have ended, before its row


@dataclass
class Soak:
    stack: Stack
    args: argparse.Namespace
    started: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    rss: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def interval(self) -> float:
        return 60 / float(self.args.per_minute)

    async def user_loop(self, user: SoakUser, offset: float, end: float) -> None:
        await asyncio.sleep(offset)
        session, used = None, 0
        while time.perf_counter() < end:
            began = time.perf_counter()
            await self.stack.fresh_token(user)
            if session is None or used >= self.args.streams_per_session:
                session, used = await self.stack.new_session(user), 0
            answer = Answer(user, time.perf_counter())
            self.answers.append(answer)
            if session is None:
                answer.stream.outcome = "session refused"
            else:
                used += 1
                message = prompt(
                    f"Soak {uuid.uuid4().hex[:6]}.",
                    tokens=self.args.tokens,
                    per_second=self.args.pace,
                )
                await self.stack.stream(answer, session, message)
            await asyncio.sleep(max(0.0, began + self.interval - time.perf_counter()))

    def minute_row(self, minute: int) -> str:
        low, high = self.started + minute * 60, self.started + (minute + 1) * 60
        mine = [a for a in self.answers if low <= a.started < high]
        errors = collections.Counter(a.outcome for a in mine if a.outcome != "complete")
        ttfts = [t for a in mine if (t := a.stream.ttft) is not None]
        kinds = f"  {dict(errors)}" if errors else ""
        return (
            f"  {minute + 1:>6}{len(mine):>9}{sum(errors.values()):>8}"
            f"{percentile(ttfts, 50) * 1000:>10.1f}{percentile(ttfts, 99) * 1000:>10.1f}{kinds}"
        )

    async def reporter(self, minutes: int, end: float) -> None:
        """Each minute's row once its streams are over; the memory after the first minute."""
        answer_seconds = self.args.tokens / self.args.pace + ANSWER_GRACE_SECONDS
        for minute in range(minutes):
            due = min(self.started + (minute + 1) * 60, end) + answer_seconds
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            print(self.minute_row(minute), flush=True)
            if minute == 0 and minutes > 1:
                self.rss.append(("after 1 min", stack_rss()))

    async def go(self) -> None:
        args = self.args
        run_id = uuid.uuid4().hex[:6]
        gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def register(n: int) -> SoakUser:
            async with gate:
                return await self.stack.register(f"soak{run_id}u{n}")

        setup = time.perf_counter()
        users = await asyncio.gather(*(register(n) for n in range(args.users)))
        dead_before = await dead_letter_count()
        print(
            f"soak: {args.users} users, {args.minutes:g} min, {args.tokens}-token answers at "
            f"{args.pace:g} tokens/s, at most {args.per_minute} streams a minute each, via "
            f"{args.via}; {os.cpu_count()} CPUs; run {run_id} "
            f"(setup {time.perf_counter() - setup:.1f} s)"
        )
        self.rss.append(("start", stack_rss()))
        print(f"  {'minute':>6}{'streams':>9}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}   (TTFT)")
        self.started = time.perf_counter()
        end = self.started + args.minutes * 60
        minutes = math.ceil(args.minutes)
        reporter = asyncio.create_task(self.reporter(minutes, end))
        try:
            await asyncio.gather(
                *(
                    self.user_loop(user, i * self.interval / len(users), end)
                    for i, user in enumerate(users)
                )
            )
            self.rss.append(("end", stack_rss()))
            await reporter
        finally:
            reporter.cancel()
        await summary(self.stack, self.answers, list(users), self.rss, dead_before)
        print(f"total {time.perf_counter() - self.started:.0f} s")
