"""Writes of live streams to Redis, batched: one script call for all streams at a time.

A producer hands each event to its ``PendingStream`` without waiting (its user, and this
replica's observers, get the event at once). The batcher writes whatever all streams added as
soon as it gets a turn of the event loop, on one pipelined connection (``script_pipe``): a
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

What Redis lost comes back: when a write fails for want of a connection or the next one goes
on a new connection (Redis may have restarted empty), every stream begun here and not closed
is rewritten whole, and so is a stream whose keys the script finds gone: its start (live key,
info hash, active entry) and every event so far, the log deleted first, so it holds exactly
what the clients got. The events come from the stream's ``history`` (the producer rebuilds
them from the answer's pieces); a rewrite publishes to observers only what Redis never
confirmed. Rewrites go a few a write (``REWRITES_PER_WRITE``); while Redis is away, they are
tried again every ``retry_seconds``.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from background_loops import BackgroundLoop, Failure
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.batch_script import SCRIPT, script_call
from chat.streaming.resume_log.pending_stream import PendingStream, Sent
from chat.streaming.resume_log.script_pipe import ScriptError, ScriptPipe

log = logging.getLogger(__name__)

REWRITES_PER_WRITE = 16


class LogBatcher:
    def __init__(
        self,
        redis_url: str,
        *,
        interval: float,
        resume_window: int,
        max_lifetime: float,
        max_in_flight: int = 64,
        retry_seconds: float = 1.0,
    ) -> None:
        self._pipe = ScriptPipe(redis_url, SCRIPT)
        self._interval = interval
        self._window = resume_window
        self._lifetime = int(max_lifetime) + resume_window
        self._max_in_flight = max_in_flight
        self._scheduled: dict[str, PendingStream] = {}
        self._live: dict[str, PendingStream] = {}  # begun and not closed: rewritten if lost
        self._marked: set[str] = set()  # of them, those to rewrite
        self._connection = 0  # the pipe's connection the last write went on
        self._out: set[asyncio.Future[Any]] = set()
        self._last_write = -math.inf
        # Woken by new work; without any, it looks again every retry_seconds, which matters
        # only while rewrites are due (Redis away): otherwise a turn finds nothing to write.
        self._loop = BackgroundLoop(
            "redis-log-batcher",
            self._write_turn,
            interval=retry_seconds,
            on_failure=_write_failed,
        )
        self.writes = 0
        self.rewrites = 0

    def open(
        self,
        streaming_session_id: str,
        session_id: str,
        history: Callable[[], list[StreamEvent]] | None = None,
    ) -> PendingStream:
        """A stream to write; ``history`` gives every event so far, for a rewrite."""
        return PendingStream(self, streaming_session_id, session_id, history)

    def schedule(self, stream: PendingStream) -> None:
        self._scheduled[stream.streaming_session_id] = stream
        self._loop.wake()

    def track(self, stream: PendingStream) -> None:
        self._live[stream.streaming_session_id] = stream

    def forget(self, stream: PendingStream) -> None:
        if self._live.get(stream.streaming_session_id) is stream:
            del self._live[stream.streaming_session_id]
            self._marked.discard(stream.streaming_session_id)

    def start(self) -> None:
        self._last_write = -math.inf
        self._loop.start()

    async def stop(self, timeout: float = 10) -> None:
        """Write what is left, wait for Redis to answer, then stop."""
        if not self._loop.is_running:
            return
        await self._loop.stop(grace=timeout)
        try:
            await self.flush()
        except Exception:
            log.exception("writing streams to redis failed")
        if self._out:
            await asyncio.wait(self._out, timeout=timeout)
        await self._pipe.aclose()

    async def _write_turn(self) -> None:
        """The loop's step: one write of whatever all streams added, if anything."""
        if not self._scheduled and not self._marked:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_write + self._interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)  # what comes meanwhile joins this write
        if len(self._out) >= self._max_in_flight:  # Redis is behind: let it catch up
            await asyncio.wait(self._out, return_when=asyncio.FIRST_COMPLETED)
        self._last_write = loop.time()
        await self.flush()

    async def flush(self) -> None:
        """Send everything scheduled as one write (Redis answers later)."""
        if not self._scheduled and not self._marked:
            return
        try:
            await self._pipe.connect()
        except (OSError, TimeoutError, ScriptError) as exc:  # ConnectionError is an OSError
            log.warning("redis unavailable for streams", extra={"error": repr(exc)})
            self._lost()
            streams, self._scheduled = list(self._scheduled.values()), {}
            for stream in streams:
                stream.drop()
            return
        if self._pipe.connections != self._connection:
            if self._connection:  # reconnected: Redis may have restarted empty
                self._lost()
            self._connection = self._pipe.connections
        # A few rewrites a write, so that one script call stays small; a stream waiting for
        # its rewrite sends nothing else meanwhile.
        self._marked.intersection_update(self._live)
        chosen = {i: self._live[i] for i in list(self._marked)[:REWRITES_PER_WRITE]}
        self._marked.difference_update(chosen)
        self.rewrites += len(chosen)
        later: dict[str, PendingStream] = {}
        for streaming_session_id, stream in self._scheduled.items():
            if streaming_session_id in self._marked:
                later[streaming_session_id] = stream
            else:
                chosen.setdefault(streaming_session_id, stream)
        self._scheduled = later
        if self._marked:
            self._loop.wake()
        if not chosen:
            return
        taken = [(stream, *stream.take()) for stream in chosen.values()]
        keys, args = script_call(
            [write for _, write, _ in taken],
            lifetime=self._lifetime,
            window=self._window,
            now=time.time(),
        )
        sent = [(stream, done) for stream, _, done in taken]
        try:
            reply = self._pipe.call(keys, args)
        except ConnectionError as exc:  # lost since connect(): the rewrites are due again
            log.warning("redis unavailable for streams", extra={"error": repr(exc)})
            self._finish(sent, ok=False)
            self._lost()
            return
        self.writes += 1
        self._out.add(reply)
        reply.add_done_callback(lambda done: self._answered(done, sent))

    def _answered(
        self, reply: "asyncio.Future[Any]", sent: list[tuple[PendingStream, Sent]]
    ) -> None:
        self._out.discard(reply)
        ok = False
        if reply.cancelled():
            pass
        elif isinstance(reply.exception(), ScriptError):
            log.error("redis refused a batch of stream writes", exc_info=reply.exception())
        elif reply.exception() is not None:
            log.warning("redis unavailable for streams", extra={"error": repr(reply.exception())})
            self._lost()
        else:
            ok = True
            refused, lost = _parse_answer(reply.result())
            if refused:
                log.warning("redis refused stream writes", extra={"count": refused})
            for position in lost:
                stream = sent[position - 1][0] if 0 < position <= len(sent) else None
                if stream is not None and self._live.get(stream.streaming_session_id) is stream:
                    log.warning(
                        "redis lost a live stream; rewriting it",
                        extra={"streamingSessionId": stream.streaming_session_id},
                    )
                    self._mark(stream)
        self._finish(sent, ok=ok)
        if self._marked:
            self._loop.wake()

    def _finish(self, sent: list[tuple[PendingStream, Sent]], *, ok: bool) -> None:
        for stream, done in sent:
            stream.confirm(done, ok)

    def _lost(self) -> None:
        """Redis may have lost everything: every live stream is to be rewritten."""
        if len(self._marked) == len(self._live):  # all of them already (Redis still away)
            return
        for stream in self._live.values():
            self._mark(stream)

    def _mark(self, stream: PendingStream) -> None:
        stream.mark()
        self._marked.add(stream.streaming_session_id)


def _write_failed(failure: Failure) -> None:
    # A bug in one write must not stop every later one.
    log.error("writing streams to redis failed", exc_info=failure.error)


def _parse_answer(answer: Any) -> tuple[int, list[int]]:
    """(commands refused, positions of the streams Redis lost) from the script's answer."""
    if isinstance(answer, list) and answer:
        return int(answer[0]), [int(position) for position in answer[1:]]
    return int(answer or 0), []
