"""One live stream's side of the batched Redis writes (``resume_log.batcher``): its events not yet
confirmed by Redis, its start and heartbeats, and what a rewrite of it carries.

An event stays in ``unconfirmed`` until Redis has answered for the write that carried it
(writes are answered in order, so a count per write is enough). A stream that has begun is
rewritten whole when Redis may have lost it (``mark``): the next write carries its start and
``history`` (every event so far) and deletes the log first; until that write is answered,
``unwritten`` is the whole history, so a resuming client here still sees every event.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.batch_script import StreamWrite


class Writer(Protocol):
    def schedule(self, stream: "PendingStream") -> None: ...
    def track(self, stream: "PendingStream") -> None: ...
    def forget(self, stream: "PendingStream") -> None: ...


@dataclass(frozen=True)
class Sent:
    """What one write carried of a stream: how many of its unconfirmed events, up to which
    seq, and whether it rewrote the stream."""

    count: int
    last_seq: int
    rewrite: bool


class PendingStream:
    """One stream's events not yet confirmed by Redis, and its start and heartbeats."""

    def __init__(
        self,
        batcher: Writer,
        streaming_session_id: str,
        session_id: str,
        history: Callable[[], list[StreamEvent]] | None = None,
    ) -> None:
        self.streaming_session_id = streaming_session_id
        self.session_id = session_id
        self.unconfirmed: list[StreamEvent] = []
        self._sent = 0  # how many of them are in writes Redis has not answered yet
        self._batcher = batcher
        self._info: dict[str, str] | None = None
        self._start: dict[str, str] | None = None  # kept for a rewrite
        self._beat = False
        self._rewrite = False  # the next write rewrites the stream whole
        self._rewrites_out = 0
        self._published = 0  # the last seq Redis confirmed
        # Without a history (tests, a lone event), the stream keeps its own events.
        self._own: list[StreamEvent] | None = [] if history is None else None
        self._history = history
        self._idle = asyncio.Event()
        self._whole = asyncio.Event()
        self._update()

    def begin(self, info: dict[str, Any]) -> None:
        """List the stream as live (written with its first events); from now on it is
        rewritten whenever Redis may have lost it, until ``close``."""
        self._info = self._start = {k: str(v) for k, v in info.items()}
        self._batcher.track(self)
        self._batcher.schedule(self)

    def add(self, event: StreamEvent) -> None:
        if self._own is not None:
            self._own.append(event)
        self.unconfirmed.append(event)
        self._update()
        self._batcher.schedule(self)

    def heartbeat(self) -> None:
        self._beat = True
        self._batcher.schedule(self)

    def close(self) -> None:
        """The stream is over here: no rewrite any more."""
        self._batcher.forget(self)

    async def flushed(self) -> None:
        """Wait until Redis has answered for every event added so far."""
        await self._idle.wait()

    async def written(self) -> None:
        """Wait until Redis holds the whole stream: every event answered and no rewrite due."""
        await self._whole.wait()

    @property
    def rewriting(self) -> bool:
        return self._rewrite or self._rewrites_out > 0

    def history(self) -> list[StreamEvent]:
        return self._history() if self._history is not None else list(self._own or ())

    def unwritten(self) -> list[StreamEvent]:
        """Events Redis may lack: all of them while the stream is to be rewritten, else those
        of writes not answered yet."""
        return self.history() if self.rewriting else list(self.unconfirmed)

    def mark(self) -> None:
        """Redis may have lost the stream: rewrite it whole with the next write."""
        self._rewrite = True
        self._update()

    def take(self) -> tuple[StreamWrite, Sent]:
        """What the next write carries: the start, a heartbeat, the events not yet sent (all
        of them for a rewrite)."""
        rewrite, self._rewrite = self._rewrite, False
        beat, info, self._info, self._beat = self._beat, self._info, None, False
        new = self.unconfirmed[self._sent :]
        self._sent = len(self.unconfirmed)
        events = new
        if rewrite:
            events = self.history()
            self._rewrites_out += 1
            # An answer already over is not listed as live again.
            info = None if events and events[-1].is_terminal else self._start
        write = StreamWrite(
            self.streaming_session_id,
            self.session_id,
            info,
            beat,
            events,
            rewrite=rewrite,
            publish_after=self._published if rewrite else 0,
        )
        return write, Sent(len(new), events[-1].seq if events else 0, rewrite)

    def drop(self) -> None:
        """Redis is unreachable: what was not sent is given up (a rewrite brings it back)."""
        del self.unconfirmed[self._sent :]
        self._beat = False
        self._update()

    def confirm(self, sent: Sent, ok: bool) -> None:
        """Redis answered for the oldest write still out (``ok``: the script ran)."""
        del self.unconfirmed[: sent.count]
        self._sent -= sent.count
        if sent.rewrite:
            self._rewrites_out -= 1
        if ok:
            self._published = max(self._published, sent.last_seq)
        self._update()

    def _update(self) -> None:
        idle = not self.unconfirmed
        for flag, state in ((self._idle, idle), (self._whole, idle and not self.rewriting)):
            if state:
                flag.set()
            else:
                flag.clear()
