"""Redis script calls: chat's stream-batch client on redis-py against the hand-written RESP
client it replaced, and redis-py's own ways of pipelining, side by side in one process.

    uv run --frozen python -m bench.redis_script [--redis redis://127.0.0.1:6379/0]
                                                 [--calls 10000] [--rounds 5] [--in-flight 64]

Every client runs chat's batch script (``chat.streaming.resume_log.batch_script.SCRIPT``)
with the same payload: one stream's write of one ``chunk`` event per call (keys and arguments
built before the clock starts), at most --in-flight calls unanswered at once (the batcher's
``max_in_flight``), all on one connection. The rounds interleave the clients in a shuffled
order, so load from other processes falls on all of them alike; each figure is the median
round. Figures: calls/s as measured (wall clock: on a loaded machine, a share of a core), this
process's CPU per call and what that makes per core (1 s / CPU per call: the client is bound
by its CPU, Redis runs in a process of its own), Redis's CPU per call (INFO cpu; meaningful on
a Redis nobody else uses), and the order: each call XADDs id ``0-{seq}``, so a call that
overtook an earlier one is refused by Redis, and the log must hold every seq once, in order.

  redis-py pipelined  ``chat.streaming.resume_log.script_pipe.ScriptPipe``, what chat uses:
                      redis-py's connection (hiredis reader), commands packed by hiredis, one
                      task sending the calls in the order made, one reading the answers.
  hand-written        ``bench/redis_script_handwritten.py``, chat's client before: its own
                      RESP encoder and parser on an asyncio protocol, each call written when made.
  redis-py pipeline   ``pipeline(transaction=False)`` on one connection: the calls made while
                      one pipeline is out go in the next (a round trip per batch).
  redis-py await each ``Redis(single_connection_client=True)`` and ``register_script``, each
                      call awaited in turn (a round trip per call).

Target: the batcher makes one call per turn of the event loop for every stream with new
events, so at most one call per stream per event. bench/streams.py (b)'s target is 2,000
streams at 20 tokens/s: 20 calls/s per stream x 2,000 streams = 40,000 calls/s per core of one
stream each (the worst case: no two streams' events share a turn; under load they do, and
calls carry more streams). The library is kept when it reaches 26,667 calls/s per core (the
target within 1.5x).
"""

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as redis

from bench.redis_script_handwritten import ScriptPipe as HandWrittenPipe
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.batch_script import SCRIPT, StreamWrite, script_call
from chat.streaming.resume_log.script_pipe import ScriptPipe

TARGET_PER_CORE = 20 * 2_000
KEPT_WITHIN = 1.5
Call = tuple[list[str], list[str | int | float]]


class Client(Protocol):
    async def connect(self) -> None: ...
    def call(self, keys: list[str], args: Sequence[Any]) -> "asyncio.Future[Any]": ...
    async def aclose(self) -> None: ...


class BatchedPipelines:
    """redis-py pipelines on one connection: calls made while one is out go in the next."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, single_connection_client=True)
        self._queued: list[tuple[Call, asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sha = ""

    async def connect(self) -> None:
        self._sha = await self._redis.script_load(SCRIPT)
        self._task = asyncio.create_task(self._run())

    def call(self, keys: list[str], args: Sequence[Any]) -> "asyncio.Future[Any]":
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append(((keys, list(args)), future))
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queued = self._queued, []
            pipe = self._redis.pipeline(transaction=False)
            for (keys, args), _ in batch:
                pipe.evalsha(self._sha, len(keys), *keys, *args)
            for (_, future), answer in zip(batch, await pipe.execute(False), strict=True):
                future.set_result(answer)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._redis.aclose()


class AwaitEach:
    """``Redis(single_connection_client=True)`` and ``register_script``: a round trip a call."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, single_connection_client=True)
        self._script = self._redis.register_script(SCRIPT)
        self._turn = asyncio.Lock()  # FIFO: the calls run in the order made

    async def connect(self) -> None:
        await self._redis.ping()

    def call(self, keys: list[str], args: Sequence[Any]) -> "asyncio.Future[Any]":
        return asyncio.ensure_future(self._in_turn(keys, args))

    async def _in_turn(self, keys: list[str], args: Sequence[Any]) -> Any:
        async with self._turn:
            return await self._script(keys, list(args))

    async def aclose(self) -> None:
        await self._redis.aclose()


CLIENTS: dict[str, Callable[[str], Client]] = {
    "redis-py pipelined": lambda url: ScriptPipe(url, SCRIPT),
    "hand-written": lambda url: HandWrittenPipe(url, SCRIPT),
    "redis-py pipeline": BatchedPipelines,
    "redis-py await each": AwaitEach,
}
CHAT_CLIENT = "redis-py pipelined"


@dataclass(frozen=True)
class Round:
    calls_per_second: float
    client_us: float
    redis_us: float
    in_order: bool


def payload(stream_id: str, count: int) -> list[Call]:
    now = time.time()
    session_id = f"s-{stream_id}"
    return [
        script_call(
            [StreamWrite(stream_id, session_id, None, False, [chunk(stream_id, seq)])],
            lifetime=120,
            window=120,
            now=now,
        )
        for seq in range(1, count + 1)
    ]


def chunk(stream_id: str, seq: int) -> StreamEvent:
    return StreamEvent(stream_id, seq, "chunk", {"content": f"word{seq} ", "tokenCount": seq})


async def redis_cpu_seconds(admin: redis.Redis) -> float:
    info = await admin.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def drive(client: Client, calls: list[Call], in_flight: int) -> list[Any]:
    """Every call, at most ``in_flight`` unanswered at once; the answers in call order."""
    room = asyncio.Event()
    out = 0

    def answered(_: "asyncio.Future[Any]") -> None:
        nonlocal out
        out -= 1
        room.set()

    answers = []
    for keys, args in calls:
        while out >= in_flight:
            room.clear()
            await room.wait()
        future = client.call(keys, args)
        out += 1
        future.add_done_callback(answered)
        answers.append(future)
    return list(await asyncio.gather(*answers))


async def measure(name: str, url: str, admin: redis.Redis, count: int, in_flight: int) -> Round:
    stream_id = f"bench-{uuid.uuid4()}"
    calls = payload(stream_id, count)
    keys = calls[0][0]
    client = CLIENTS[name](url)
    await client.connect()
    try:
        redis_before = await redis_cpu_seconds(admin)
        cpu_before, started = time.process_time(), time.perf_counter()
        answers = await drive(client, calls, in_flight)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_before
        redis_spent = await redis_cpu_seconds(admin) - redis_before
    finally:
        await client.aclose()
    logged = [entry_id for entry_id, _ in await admin.xrange(keys[0])]
    in_order = logged == [f"0-{seq}".encode() for seq in range(1, count + 1)]
    in_order = in_order and all(answer == [0] for answer in answers)  # nothing refused
    await admin.delete(*keys[:-1])
    await admin.zrem(keys[-1], stream_id)
    return Round(count / wall, cpu / count * 1e6, redis_spent / count * 1e6, in_order)


async def run(options: argparse.Namespace) -> dict[str, list[Round]]:
    admin = redis.Redis.from_url(options.redis)
    rounds: dict[str, list[Round]] = {name: [] for name in CLIENTS}
    try:
        for _ in range(options.rounds):
            for name in random.sample(list(CLIENTS), len(CLIENTS)):
                rounds[name].append(
                    await measure(name, options.redis, admin, options.calls, options.in_flight)
                )
    finally:
        await admin.aclose()
    return rounds


def report(rounds: dict[str, list[Round]], options: argparse.Namespace) -> bool:
    """Prints the figures; whether every client kept the order."""
    print(
        f"{options.calls:,} calls of the batch script per client and round, {options.rounds} "
        f"rounds interleaved, <= {options.in_flight} in flight on one connection (median round):"
    )
    print(
        f"  {'client':<20}{'calls/s':>9}{'us CPU/call':>13}{'per core':>10}"
        f"{'Redis us/call':>15}  order"
    )
    per_core: dict[str, float] = {}
    ordered = True
    for name, measured in rounds.items():
        client_us = statistics.median(r.client_us for r in measured)
        per_core[name] = 1e6 / client_us
        kept = all(r.in_order for r in measured)
        ordered = ordered and kept
        print(
            f"  {name:<20}{statistics.median(r.calls_per_second for r in measured):>9,.0f}"
            f"{client_us:>13.1f}{per_core[name]:>10,.0f}"
            f"{statistics.median(r.redis_us for r in measured):>15.1f}  "
            f"{'kept' if kept else 'BROKEN'}"
        )
    chat = per_core[CHAT_CLIENT]
    print(
        f"  target {TARGET_PER_CORE:,} calls/s per core (2,000 streams x 20 calls/s): "
        f"{CHAT_CLIENT} {chat / TARGET_PER_CORE:.2f}x of it, hand-written "
        f"{per_core['hand-written'] / TARGET_PER_CORE:.2f}x; "
        + (
            "the library is kept"
            if TARGET_PER_CORE / chat <= KEPT_WITHIN
            else f"the library misses it by more than {KEPT_WITHIN}x"
        )
    )
    return ordered


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=64)
    options = parser.parse_args()
    rounds = asyncio.run(run(options))
    return 0 if report(rounds, options) else 1


if __name__ == "__main__":
    raise SystemExit(main())
