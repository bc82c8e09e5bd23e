"""Writes of live streams to Redis, batched: one script call at a time for all streams.

A producer hands each event to its ``PendingStream`` without waiting (its user gets the event
from the local hub at once). The batcher writes as soon as it gets a turn of the event loop,
and while one write is in flight the next gathers: at light load every event goes alone and
at once (a supervisor lags the user by one Redis round trip), at heavy load each write
carries many streams' events, so the cost per event falls as the load grows. ``interval``
is the least time between two writes (0 by default): an event that comes after a quiet spell
still goes at once, and under load writes are fewer and bigger, each event waiting at most
that long.

One write is one script call (``batch_script``): for each stream, in order, its events to
the resume log (one XADD each, id ``0-{seq}``) and then one publish of the same events to
observers. The log is written before the publish, so an observer that subscribes and then
reads the log misses nothing.

An event stays in its stream's ``unconfirmed`` list until Redis has answered for it: a
resuming client that reads the log and then that list (taken before the read) sees every
event. A write Redis refuses is logged and dropped, as an unbatched write would have been.
"""

import asyncio
import logging
import math
import time
from typing import Any

import redis.asyncio as redis

from chat.streaming.batch_script import SCRIPT, StreamWrite, script_call
from chat.streaming.events import StreamEvent

log = logging.getLogger(__name__)


class PendingStream:
    """One stream's events not yet confirmed by Redis, and its start and heartbeats."""

    def __init__(self, batcher: "LogBatcher", stream_id: str, session_id: str) -> None:
        self.stream_id = stream_id
        self.session_id = session_id
        self.unconfirmed: list[StreamEvent] = []
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

    def take(self) -> tuple[dict[str, str] | None, bool, int]:
        """What the next write carries: the start, a heartbeat, how many events."""
        info, beat = self._info, self._beat
        self._info, self._beat = None, False
        return info, beat, len(self.unconfirmed)

    def confirm(self, count: int) -> None:
        del self.unconfirmed[:count]
        if not self.unconfirmed:
            self._idle.set()


class LogBatcher:
    def __init__(
        self,
        client: redis.Redis,
        *,
        interval: float,
        resume_window: int,
        max_lifetime: float,
    ) -> None:
        self._script = client.register_script(SCRIPT)
        self._interval = interval
        self._window = resume_window
        self._lifetime = int(max_lifetime) + resume_window
        self._scheduled: dict[str, PendingStream] = {}
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task | None = None

    def open(self, stream_id: str, session_id: str) -> PendingStream:
        return PendingStream(self, stream_id, session_id)

    def schedule(self, stream: PendingStream) -> None:
        self._scheduled[stream.stream_id] = stream
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="redis-log-batcher")

    async def stop(self, timeout: float = 10) -> None:
        """Write what is left, then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await asyncio.wait({self._task}, timeout=timeout)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = -math.inf
        while not self._stopping:
            await self._wake.wait()
            wait = last + self._interval - loop.time()
            if wait > 0 and not self._stopping:
                await asyncio.sleep(wait)  # what comes meanwhile joins this write
            last = loop.time()
            await self.flush()

    async def flush(self) -> None:
        """Write everything scheduled, in one round trip."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        self._wake.clear()
        streams, self._scheduled = list(self._scheduled.values()), {}
        if not streams:
            return
        batches = [(stream, *stream.take()) for stream in streams]
        writes = [
            StreamWrite(stream.stream_id, stream.session_id, info, beat, stream.unconfirmed[:count])
            for stream, info, beat, count in batches
        ]
        keys, args = script_call(
            writes, lifetime=self._lifetime, window=self._window, now=time.time()
        )
        try:
            refused = await self._script(keys=keys, args=args)
            if refused:
                log.warning("redis refused stream writes", extra={"count": refused})
        except (redis.RedisError, OSError) as exc:
            log.warning("redis unavailable for streams", extra={"error": repr(exc)})
        except Exception:
            log.exception("writing streams to redis failed")
        finally:
            for stream, _, _, count in batches:
                stream.confirm(count)
