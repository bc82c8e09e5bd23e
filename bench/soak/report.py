"""The soak's summary: each figure next to its target."""

import asyncio
import collections
import time
from decimal import Decimal

from bench.harness import Target, met, percentile

from .checks import (
    FLAT_KIB,
    FLAT_RATIO,
    USAGE_DLQ,
    dead_letter_count,
    is_flat,
    ledger_check,
    stored_tokens,
)
from .stack import Answer, SoakUser, Stack

SETTLE_SECONDS = 30  # the longest wait for a user's holds to be released
NO_ERRORS = Target(0)


async def billing(
    stack: Stack, answers: list[Answer], users: list[SoakUser]
) -> tuple[int, list[str]]:
    """(users billed exactly, what was wrong for the others)."""
    unfinished = [
        a.stream.stream_id for a in answers if a.outcome != "complete" and a.stream.stream_id
    ]
    stored = await stored_tokens(unfinished)
    exact, problems = 0, []
    for user in users:
        expected = Decimal(0)
        for a in answers:
            if a.user is not user or a.stream.stream_id is None:
                continue
            tokens = (
                (a.stream.input_tokens, a.stream.output_tokens)
                if a.outcome == "complete"
                else stored.get(a.stream.stream_id)
            )
            if tokens is not None:  # never stored: never charged
                expected += await stack.price(user, *tokens)
        deadline = time.perf_counter() + SETTLE_SECONDS
        while True:
            total, held = await stack.balance(user)
            if (held == 0 and user.before - total == expected) or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.5)
        usage = await stack.usage_credits(user)
        if held == 0 and user.before - total == expected == usage:
            exact += 1
        else:
            problems.append(
                f"{user.username}: balance -{user.before - total}, usage {usage}, "
                f"held {held}, priced {expected}"
            )
    return exact, problems


def print_rss(rss: list[tuple[str, dict[str, int]]]) -> None:
    samples = dict(rss)
    start, end = samples["start"], samples["end"]
    middle = "after 1 min" if "after 1 min" in samples else None
    baseline = samples[middle] if middle else start
    print(
        f"  RSS, MiB              start{'  after 1 min' if middle else ''}    end   "
        f"(target flat: end within {FLAT_RATIO:.0%} or {FLAT_KIB // 1024} MiB of "
        f"{middle or 'start'})"
    )
    for name in end:
        if name not in baseline:
            continue
        flat = is_flat(baseline[name], end[name])
        between = f"{baseline[name] / 1024:>13.1f}" if middle else ""
        print(
            f"    {name:18}{start.get(name, 0) / 1024:>7.1f}{between}{end[name] / 1024:>7.1f}"
            f"   {'flat' if flat else 'GREW'}  {met(flat)}"
        )


async def summary(
    stack: Stack,
    answers: list[Answer],
    users: list[SoakUser],
    rss: list[tuple[str, dict[str, int]]],
    dead_before: int | None,
) -> None:
    errors = collections.Counter(a.outcome for a in answers if a.outcome != "complete")
    ttfts = [t for a in answers if (t := a.stream.ttft) is not None]
    exact, problems = await billing(stack, answers, users)
    clean, ledger_line = await asyncio.to_thread(ledger_check)
    dead_after = await dead_letter_count()
    new_dead = None if dead_before is None or dead_after is None else dead_after - dead_before
    print("summary:")
    n_errors = sum(errors.values())
    print(
        f"  errors                {n_errors:>6} of {len(answers):,} streams  (target 0)   "
        f"{met(NO_ERRORS.ok(n_errors))}" + (f"  {dict(errors)}" if errors else "")
    )
    print(
        f"  time to first token   p50 {percentile(ttfts, 50) * 1000:.1f} ms, "
        f"p99 {percentile(ttfts, 99) * 1000:.1f} ms over the run"
    )
    print(
        f"  billing exact         {exact:>6} of {len(users)} users  (target all)   "
        f"{met(exact == len(users))}"
    )
    for problem in problems[:5]:
        print(f"      {problem}")
    print(
        f"  ledger check          {'clean' if clean else 'NOT clean'}  (target clean)   "
        f"{met(clean)}  [{ledger_line}]"
    )
    print(
        f"  dead letters          {'?' if new_dead is None else new_dead:>6} new in "
        f"{USAGE_DLQ}  (target 0)   {met(new_dead == 0)}"
    )
    print_rss(rss)
