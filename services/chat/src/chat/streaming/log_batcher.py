"""Writes of live streams to Redis, batched: one script call for all streams at a time.

A producer hands each event to its ``PendingStream`` without waiting (its user, and this
replica's observers, get the event at once). The batcher writes whatever all streams added as
soon as it gets a turn of the event loop, on one pipelined connection (``ScriptPipe``): a
write goes out without waiting for the answers to the writes before it, so an observer on
another replica lags the user by one turn of this replica's loop and a Redis round trip, and
under load each write carries many streams' events. ``interval`` is the least time between
two writes (0 by default): an event that comes after a quiet spell still goes at once, and
under load writes are fewer and bigger, each event waiting at most that long.

One write is one script call (``batch_script``): for each stream, in order, its events to
the resume log (one XADD each, id ``0-{seq}``) and then one publish of the same events to
observers. The log is written before the publish, so an observer that subscribes and then
reads the log misses nothing; writes reach Redis in the order they were made.

An event stays in its stream's ``unconfirmed`` list until Redis has answered for it: a
resuming client that reads the log and then that list (taken before the read) sees every
event. A write Redis refuses, or that a lost connection leaves unanswered, is logged and
dropped, as an unbatched write would have been.
"""

import asyncio
import logging
import math
import time
from typing import Any

from chat.streaming.batch_script import SCRIPT, StreamWrite, script_call
from chat.streaming.events import StreamEvent
from chat.streaming.script_pipe import ScriptError, ScriptPipe

log = logging.getLogger(__name__)


class PendingStream:
    """One stream's events not yet confirmed by Redis, and its start and heartbeats."""

    def __init__(self, batcher: "LogBatcher", stream_id: str, session_id: str) -> None:
        self.stream_id = stream_id
        self.session_id = session_id
        self.unconfirmed: list[StreamEvent] = []
        self._sent = 0  # how many of them are in writes Redis has not answered yet
        self._batcher = batcher
        self._info: dict[str, str] | None = None
        self._beat = False
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self, info: dict[str, Any]) -> None:
        """List the stream as live (written with its first events)."""
        self._info = {k: str(v) for k, v in info.items()}
        self._batcher.schedule(self)

    def add(self, event: StreamEvent) -> None:
        self.unconfirmed.append(event)
        self._idle.clear()
        self._batcher.schedule(self)

    def heartbeat(self) -> None:
        self._beat = True
        self._batcher.schedule(self)

    async def flushed(self) -> None:
        """Wait until Redis has answered for every event added so far."""
        await self._idle.wait()

    def take(self) -> tuple[dict[str, str] | None, bool, list[StreamEvent]]:
        """What the next write carries: the start, a heartbeat, the events not yet sent."""
        info, beat = self._info, self._beat
        self._info, self._beat = None, False
        events = self.unconfirmed[self._sent :]
        self._sent = len(self.unconfirmed)
        return info, beat, events

    def confirm(self, count: int) -> None:
        """Redis answered for the oldest write still out, which had ``count`` events."""
        del self.unconfirmed[:count]
        self._sent -= count
        if not self.unconfirmed:
            self._idle.set()


class LogBatcher:
    def __init__(
        self,
        redis_url: str,
        *,
        interval: float,
        resume_window: int,
        max_lifetime: float,
        max_in_flight: int = 64,
    ) -> None:
        self._pipe = ScriptPipe(redis_url, SCRIPT)
        self._interval = interval
        self._window = resume_window
        self._lifetime = int(max_lifetime) + resume_window
        self._max_in_flight = max_in_flight
        self._scheduled: dict[str, PendingStream] = {}
        self._wake = asyncio.Event()
        self._out: set[asyncio.Future] = set()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self.writes = 0

    def open(self, stream_id: str, session_id: str) -> PendingStream:
        return PendingStream(self, stream_id, session_id)

    def schedule(self, stream: PendingStream) -> None:
        self._scheduled[stream.stream_id] = stream
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="redis-log-batcher")

    async def stop(self, timeout: float = 10) -> None:
        """Write what is left, wait for Redis to answer, then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await asyncio.wait({self._task}, timeout=timeout)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        if self._out:
            await asyncio.wait(self._out, timeout=timeout)
        await self._pipe.aclose()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = -math.inf
        while not self._stopping:
            await self._wake.wait()
            wait = last + self._interval - loop.time()
            if wait > 0 and not self._stopping:
                await asyncio.sleep(wait)  # what comes meanwhile joins this write
            if len(self._out) >= self._max_in_flight:  # Redis is behind: let it catch up
                await asyncio.wait(self._out, return_when=asyncio.FIRST_COMPLETED)
            last = loop.time()
            try:
                await self.flush()
            except Exception:  # a bug in one write must not stop every later one
                log.exception("writing streams to redis failed")

    async def flush(self) -> None:
        """Send everything scheduled as one write (Redis answers later)."""
        self._wake.clear()
        streams, self._scheduled = list(self._scheduled.values()), {}
        if not streams:
            return
        taken = [(stream, *stream.take()) for stream in streams]
        writes = [
            StreamWrite(stream.stream_id, stream.session_id, info, beat, events)
            for stream, info, beat, events in taken
        ]
        counts = [(stream, len(events)) for stream, _, _, events in taken]
        keys, args = script_call(
            writes, lifetime=self._lifetime, window=self._window, now=time.time()
        )
        try:
            await self._pipe.connect()
            reply = self._pipe.call(keys, args)
        except (OSError, TimeoutError, ScriptError) as exc:  # ConnectionError is an OSError
            log.warning("redis unavailable for streams", extra={"error": repr(exc)})
            _confirm(counts)
            return
        self.writes += 1
        self._out.add(reply)
        reply.add_done_callback(lambda done: self._answered(done, counts))

    def _answered(self, reply: asyncio.Future, counts: list[tuple[PendingStream, int]]) -> None:
        self._out.discard(reply)
        if reply.cancelled():
            pass
        elif isinstance(reply.exception(), ScriptError):
            log.error("redis refused a batch of stream writes", exc_info=reply.exception())
        elif reply.exception() is not None:
            log.warning("redis unavailable for streams", extra={"error": repr(reply.exception())})
        elif refused := reply.result():
            log.warning("redis refused stream writes", extra={"count": refused})
        _confirm(counts)


def _confirm(counts: list[tuple[PendingStream, int]]) -> None:
    for stream, count in counts:
        stream.confirm(count)
