"""The ledger benchmark's figures, each next to its target."""

import argparse
from dataclasses import dataclass

from accounting.credits.amounts import MICRO
from bench.harness import Target, percentile

from .invariants import Overdraft
from .scenarios import Run

HOT_VS_BARE = Target(0.5, at_most=False, unit="x bare")  # hot pairs/s / bare UPDATEs/s


@dataclass
class Figures:
    version: str
    synchronous_commit: str
    bare: Run
    hot: Run
    spread: Run
    overdraft: Overdraft
    overdrafts: int  # accounts overdrawn, of all
    mismatches: int  # accounts out of step with their ledger entries


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_waits(run: Run, clients: int) -> None:
    if not run.samples:
        return
    top = ", ".join(f"{what} {count / run.samples:.1f}" for what, count in run.waits.most_common(5))
    print(f"      backends (of {clients}) on average: {top}")


def print_figures(args: argparse.Namespace, figures: Figures) -> None:
    bare, hot, spread, overdraft = figures.bare, figures.hot, figures.spread, figures.overdraft
    ratio = hot.rate / bare.rate if bare.rate else float("nan")
    spread_label = f"reserve+finalize, {args.accounts:,} accounts"
    width = max(32, len(spread_label))
    print(
        f"ledger benchmark, PostgreSQL {figures.version.split()[0]}, {args.clients} clients on a "
        f"pool of {args.pool_size}, {args.seconds:g} s per scenario, "
        f"synchronous_commit={figures.synchronous_commit}, "
        f"{'no batching' if args.no_batching else 'per-account batches (as the service)'}"
    )
    print(f"  {'bare single-row UPDATE':<{width}} {bare.rate:>9,.0f} /s")
    print_waits(bare, args.clients)
    print(
        f"  {'reserve+finalize, hot account':<{width}} {hot.rate:>9,.0f} pairs/s"
        f"   {HOT_VS_BARE.show(ratio, '.2f')}"
    )
    print_waits(hot, args.clients)
    spread_x = spread.rate / hot.rate if hot.rate else float("nan")
    print(f"  {spread_label:<{width}} {spread.rate:>9,.0f} pairs/s   ({spread_x:.2f} x hot)")
    print_waits(spread, args.clients)
    print(
        f"  reservations refused for insufficient credits: {hot.refused} hot, "
        f"{spread.refused} spread (expected 0)"
    )
    if hot.reserve_s and hot.settle_s:
        print(
            f"  hot account latency: reserve p50 {ms(percentile(hot.reserve_s, 50))}"
            f" p99 {ms(percentile(hot.reserve_s, 99))};"
            f" settle p50 {ms(percentile(hot.settle_s, 50))}"
            f" p99 {ms(percentile(hot.settle_s, 99))}"
        )
    print(
        f"  overdraft test: {overdraft.held} of {args.overdraft_attempts} reservations held "
        f"against a balance for {args.overdraft_covers}; final available "
        f"{overdraft.available_micro / MICRO:g}, held {overdraft.held_micro / MICRO:g} credits "
        f"({overdraft.open_holds} open holds); overdrafts: {figures.overdrafts}"
    )
    print(
        f"  ledger invariants (available = sum(available_delta) = unexpired remaining, "
        f"held = sum(held_delta) = open holds): {figures.mismatches} accounts out of step"
    )
    print(
        f"  this process's CPU (1.0 = one core): bare {bare.client_cpu:.2f}, "
        f"hot {hot.client_cpu:.2f}, spread {spread.client_cpu:.2f}"
    )
