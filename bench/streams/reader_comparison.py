"""(c'') The SSE reader (c) uses, chosen by measurement: (c) on the serving replica once with
SseTap and once with httpx-sse, the same sessions and answers, one after the other. There the
platform's own lag is near zero, so what differs is this client's: how late it reads an event
that has arrived while it is busy parsing the other streams'."""

from dataclasses import dataclass

from bench.harness import CHAT_URL, Platform

from .observe import LAG_P99, Observed, section_observe
from .readers import EventReader, HttpxSseReader, TapReader

KEEP_OWN_ABOVE = 1.5  # the rule: own code only where the library misses a target by more


@dataclass
class ReaderComparison:
    tap: Observed
    library: Observed

    @property
    def library_over_target(self) -> float:
        return self.library.p99 / LAG_P99.limit

    @property
    def cpu_ratio(self) -> float:
        return self.library.bench_cpu_per_event / max(self.tap.bench_cpu_per_event, 1e-12)

    def verdict(self) -> str:
        met_by_tap = "meets" if LAG_P99.ok(self.tap.p99) else "misses"
        return (
            f"httpx-sse's lag p99 is {self.library_over_target:.1f}x the target (the rule keeps "
            f"own code above {KEEP_OWN_ABOVE:g}x), SseTap's {met_by_tap} it; this bench's CPU "
            f"per chunk read with httpx-sse is {self.cpu_ratio:.1f}x SseTap's"
        )

    def summary(self) -> list[str]:
        tap, library = self.tap, self.library
        return [
            f"  (c'') SSE reader for (c), lag p99 on the serving replica: SseTap "
            f"{tap.p99 * 1000:.2f} ms, httpx-sse {library.p99 * 1000:.2f} ms {LAG_P99.bound}; "
            f"bench CPU per chunk read {tap.bench_cpu_per_event * 1e6:.0f} vs "
            f"{library.bench_cpu_per_event * 1e6:.0f} us",
            f"        {self.verdict()}",
        ]


async def section_reader_comparison(
    platform: Platform, sessions: int, tokens: int
) -> ReaderComparison:
    figures: list[Observed] = []
    readers: list[EventReader] = [TapReader(), HttpxSseReader()]
    try:
        for reader in readers:
            figures.append(
                await section_observe(
                    platform,
                    sessions,
                    tokens,
                    CHAT_URL,
                    "on chat itself",
                    reader,
                    "on the serving replica",
                )
            )
            print()
    finally:
        for reader in readers:
            await reader.aclose()
    comparison = ReaderComparison(*figures)
    print(f"(c'') {comparison.verdict()}")
    return comparison
