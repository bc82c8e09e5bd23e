"""The streams benchmark's command line: every scenario of --only in turn, then a summary."""

import argparse
import math
import os
import time
from typing import Protocol

from bench.harness import (
    ADMIN,
    CHAT_URL,
    EVENT_LOOP,
    MODEL,
    SIMULATOR_URL,
    Platform,
    run,
    wait_for_quiet,
)
from bench.harness.platform import CREDITS_PER_USER

from . import __doc__ as DOC
from .boto3_cost import section_boto3
from .capacity import section_capacity
from .observe import section_observe
from .reader_comparison import section_reader_comparison
from .readers import TapReader
from .replica import second_replica
from .stack_cpu import section_stack_cpu
from .sustained import section_ttft_sustained
from .ttft import WARMUP, section_ttft
from .workers import section_workers

SCENARIOS = [
    "ttft",
    "sustained",
    "stack-cpu",
    "observe",
    "readers",
    "capacity",
    "workers",
    "boto3",
]
SUMMARY_ORDER = [
    "ttft",
    "sustained",
    "stack-cpu",
    "capacity",
    "workers",
    "boto3",
    "observe",
    "readers",
]
BURST_SIZES = [50, 200]  # (a): --ttft-bursts says how many bursts of each
CPU_CONCURRENCY = 10  # (d): answers at a time
BOTO3_TOKENS = 200  # (b'): per call


class Figures(Protocol):
    def summary(self) -> list[str]: ...


async def run_sections(platform: Platform, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    chosen = [s for s in args.only.split(",") if s]
    platform.admin_token = await platform.login(*ADMIN)
    bursts = [int(b) for b in args.ttft_bursts.split(",")]
    plan = list(zip(BURST_SIZES, bursts, strict=False))
    print(
        f"streams benchmark: chat {CHAT_URL}, model simulator {SIMULATOR_URL}, model {MODEL}; "
        f"{os.cpu_count()} CPUs; event loop {EVENT_LOOP}; run id {platform.run}; "
        f"scenarios {', '.join(chosen)}"
    )
    await wait_for_quiet(args.quiet_wait)
    # The users (a) and (c) need, up front; the others register theirs as they go.
    expected = (WARMUP + sum(c * b for c, b in plan) if "ttft" in chosen else 0) + (
        args.observed if "observe" in chosen or "readers" in chosen else 0
    )
    if expected:
        await platform.register(math.ceil(expected / platform.per_user))
        setup = platform.setup
        print(
            f"setup: {setup.registered} users registered concurrently in {setup.register_s:.1f} s"
            f" ({setup.registered / max(1e-9, setup.register_s):.0f} /s), {CREDITS_PER_USER} "
            f"credits each allocated in {setup.allocate_s:.1f} s; at most {platform.per_user} "
            "streams per user"
        )

    results: dict[str, list[Figures]] = {}
    if "ttft" in chosen:
        results["ttft"] = [await section_ttft(platform, plan)]
        print()
    if "sustained" in chosen:
        levels = [int(level) for level in args.sustained.split(",") if level]
        results["sustained"] = [
            await section_ttft_sustained(
                platform, levels, args.sustained_rounds, args.sustained_tokens
            )
        ]
        print()
    if "stack-cpu" in chosen and args.cpu_streams:
        results["stack-cpu"] = [
            await section_stack_cpu(platform, args.cpu_streams, CPU_CONCURRENCY)
        ]
        print()
    if "observe" in chosen:
        tap = TapReader()
        observed: list[Figures] = [
            await section_observe(
                platform,
                args.observed,
                args.observe_tokens,
                CHAT_URL,
                "on chat itself",
                tap,
                "on the serving replica",
            )
        ]
        print()
        async with second_replica() as url:
            observed.append(
                await section_observe(
                    platform,
                    args.observed,
                    args.observe_tokens,
                    url,
                    f"on a second replica ({url}, through Redis)",
                    tap,
                    "on another replica",
                )
            )
        print()
        results["observe"] = observed
    if "readers" in chosen:
        results["readers"] = [
            await section_reader_comparison(platform, args.observed, args.observe_tokens)
        ]
        print()
    if "capacity" in chosen:
        results["capacity"] = [await section_capacity(platform, args)]
        print()
    if "workers" in chosen:
        results["workers"] = [await section_workers(platform, args)]
        print()
    if "boto3" in chosen:
        results["boto3"] = [await section_boto3(args.boto3_streams, BOTO3_TOKENS)]
        print()

    print(platform.setup_summary())
    print("summary:")
    for name in SUMMARY_ORDER:
        for figures in results.get(name, []):
            for line in figures.summary():
                print(line)
    print(f"total {time.perf_counter() - started:.0f} s")


async def bench(args: argparse.Namespace) -> int:
    platform = Platform(args.streams_per_user, label="bench.streams")
    try:
        problem = await platform.check()
        if problem:
            print(f"streams benchmark: skipped, {problem}")
            return 0
        await run_sections(platform, args)
        return 0
    finally:
        await platform.aclose()


def scenarios(value: str) -> str:
    unknown = [s for s in value.split(",") if s and s not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"no scenario {unknown}; one of {', '.join(SCENARIOS)}")
    return value


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.streams", description=(DOC or "").splitlines()[0]
    )
    parser.add_argument(
        "--only", type=scenarios, default=",".join(SCENARIOS), help="scenarios to run, in order"
    )
    parser.add_argument(
        "--ttft-bursts", default="4,2", help="(a): bursts of 50, of 200 concurrent streams"
    )
    parser.add_argument("--sustained", default="50,200", help="(a'): levels of streams kept open")
    parser.add_argument(
        "--sustained-rounds", type=int, default=3, help="(a'): streams per worker, first uncounted"
    )
    parser.add_argument(
        "--sustained-tokens", type=int, default=40, help="(a'): answer length at 20 tokens/s"
    )
    parser.add_argument(
        "--cpu-streams", type=int, default=300, help="(d): answers measured; 0 skips it"
    )
    parser.add_argument("--observed", type=int, default=50, help="(c): sessions observed")
    parser.add_argument("--observe-tokens", type=int, default=100, help="(c): answer length")
    parser.add_argument("--levels", default="250,500,1000,2000", help="(b): concurrency ramp")
    parser.add_argument("--start-rate", type=float, default=100, help="(b): streams started/s")
    parser.add_argument(
        "--hold-seconds", type=float, default=10, help="(b): how long all of a level stream"
    )
    parser.add_argument(
        "--budget", type=float, default=80, help="(b): seconds it may take (per copy in (b1, b2))"
    )
    parser.add_argument(
        "--min-level", type=int, default=25, help="(b): when no level holds, halve down to this"
    )
    parser.add_argument(
        "--worker-counts", default="1,2", help="(b1, b2): chat WORKERS of each copy, in turn"
    )
    parser.add_argument(
        "--worker-levels", default="250,500,750,1000", help="(b1, b2): concurrency ramp per copy"
    )
    parser.add_argument("--streams-per-user", type=int, default=4)
    parser.add_argument(
        "--boto3-streams", type=int, default=100, help="(b'): concurrent boto3 calls measured"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="seconds to wait at the start for a usage-relay backlog (an earlier run's) to drain",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(bench(parse()))
