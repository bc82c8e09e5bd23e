"""(c) How late a supervisor sees each chunk: supervisor1 observes sessions while their users
stream; for each chunk, supervisor receive time - user receive time, matched by SSE id."""

import asyncio
import collections
import time
from dataclasses import dataclass

from bench.harness import (
    CHAT_URL,
    SUPERVISOR,
    CpuMeter,
    LogWatch,
    Platform,
    Settler,
    Stream,
    Target,
    User,
    percentile,
    print_backlog,
    print_cpu,
    print_log,
    prompt,
    stack_processes,
)

from .answers import PACE
from .readers import READ_ERRORS, EventReader

LAG_P99 = Target(0.005, unit="ms", scale=1000)
OBSERVE_SECONDS = 120  # the longest an observed answer may take
JOIN_SECONDS = 15


async def observe(
    reader: EventReader, url: str, token: str, session_id: str, joined: asyncio.Event
) -> dict[str, float]:
    """Chunk ids of one observed session -> receive time, until its answer ends."""
    seen: dict[str, float] = {}
    ended = asyncio.Event()

    def on_event(event: str, event_id: str, received: float) -> None:
        if event == "observer":
            joined.set()
        elif event == "chunk":
            seen[event_id] = received
        elif event in ("complete", "error"):
            ended.set()

    path = f"/api/chat/sessions/{session_id}/observe"
    watching = asyncio.create_task(reader(url, "GET", path, token, on_event))
    answer_ended = asyncio.create_task(ended.wait())
    await asyncio.wait(
        {watching, answer_ended}, timeout=OBSERVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    for task in (watching, answer_ended):  # the observer stream stays open for later answers
        task.cancel()
    await asyncio.gather(watching, answer_ended, return_exceptions=True)
    if not ended.is_set():
        raise RuntimeError(f"observing {session_id} ended without the answer's end")
    return seen


async def answer(
    reader: EventReader, user: User, session_id: str, message: str, result: Stream
) -> None:
    """A user's stream, read and timed like the observers'."""
    result.started = time.perf_counter()

    def on_event(event: str, event_id: str, received: float) -> None:
        if event == "chunk":
            result.chunk(event_id, received)
        elif event == "complete":
            result.outcome = "complete"
        elif event == "error":
            result.outcome = "error event"

    path = f"/api/chat/sessions/{session_id}/stream"
    try:
        status = await reader(CHAT_URL, "POST", path, user.token, on_event, {"message": message})
    except READ_ERRORS as exc:
        result.outcome = type(exc).__name__
        return
    if status != 200:
        result.outcome = f"http {status}"
    elif not result.outcome:
        result.outcome = "ended without complete"


@dataclass
class Observed:
    where: str
    reader: str
    lags: list[float]
    ok: bool  # every chunk matched, every stream complete
    bench_cpu_per_event: float  # this process's CPU seconds per chunk it received

    @property
    def p99(self) -> float:
        return percentile(self.lags, 99)

    def summary(self) -> list[str]:
        return [
            f"  (c) supervisor lag p99 {self.where:23} {self.p99 * 1000:9.2f} ms {LAG_P99.bound} "
            f"{'met' if self.ok and LAG_P99.ok(self.p99) else 'MISSED'}"
        ]


async def section_observe(
    platform: Platform,
    sessions: int,
    tokens: int,
    observe_url: str,
    where: str,
    reader: EventReader,
    label: str,
) -> Observed:
    """``label``: where, in the summary's few words."""
    message = prompt("Benchmark: tell me something.", tokens=tokens, per_second=PACE)
    pairs = await platform.prepare(sessions, "(c)")
    token = await platform.login(*SUPERVISOR)
    processes = stack_processes()
    await Settler(processes)()
    joined = [asyncio.Event() for _ in pairs]
    watchers = [
        asyncio.create_task(observe(reader, observe_url, token, session_id, j))
        for (_, session_id), j in zip(pairs, joined, strict=True)
    ]
    results = [Stream(chunk_times={}) for _ in pairs]
    try:
        try:
            await asyncio.wait_for(asyncio.gather(*(j.wait() for j in joined)), JOIN_SECONDS)
        except TimeoutError:
            print(f"  {sum(not j.is_set() for j in joined)} observers never joined")
        meter, watch = CpuMeter(processes).start(), LogWatch().start()
        cpu = time.process_time()
        await asyncio.gather(
            *(
                answer(reader, user, session_id, message, result)
                for (user, session_id), result in zip(pairs, results, strict=True)
            )
        )
        done, pending = await asyncio.wait(watchers, timeout=5)
        cpu = time.process_time() - cpu
        cores, logged = meter.stop(), watch.stop()
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)

    lags, missing, user_chunks, observer_chunks = [], 0, 0, 0
    for result, watcher in zip(results, watchers, strict=True):
        seen = watcher.result() if watcher in done and not watcher.exception() else {}
        observer_chunks += len(seen)
        times = result.chunk_times or {}
        user_chunks += len(times)
        for event_id, received in times.items():
            if event_id in seen:
                lags.append(seen[event_id] - received)
            else:
                missing += 1
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    failed = sum(1 for w in done if w.exception() is not None)
    print(
        f"(c) supervisor1 observing {len(pairs)} sessions {where} while their users stream "
        f"{tokens} tokens at {PACE:g} tokens/s, read with {reader.name}:"
    )
    print(
        f"  supervisor lag behind the user, per chunk   p50 {percentile(lags, 50) * 1000:6.2f} ms"
        f"   p99 {percentile(lags, 99) * 1000:6.2f} ms   (target p99 <= 5 ms)"
    )
    print(
        f"  {'':44}min {min(lags, default=float('nan')) * 1000:6.2f} ms   "
        f"max {max(lags, default=float('nan')) * 1000:6.2f} ms"
    )
    print(
        f"  chunks matched {len(lags):,} of {user_chunks:,}; missed by the supervisor {missing:,}"
        " (a negative lag: the supervisor had the chunk first)"
    )
    per_event = cpu / max(1, user_chunks + observer_chunks)
    print(f"  this bench's CPU per chunk read ({reader.name}): {per_event * 1e6:.0f} us")
    if errors or pending or failed:
        print(
            f"  problems: user streams {dict(errors)}, observers unfinished {len(pending)}, "
            f"observers failed {failed}"
        )
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    ok = bool(lags) and not missing and not errors
    return Observed(label, reader.name, lags, ok, per_event)
