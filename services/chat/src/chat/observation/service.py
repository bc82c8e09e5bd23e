"""Watching a session's answers live, and listing the answers being generated on every
replica.

An observer's queue opens before anything is read: nothing said in between can be missed, and
what is seen twice is dropped by its sequence number. An answer served here comes straight
from its producer from ``open`` on; what Redis may lack of it before then is taken from the
producers with the queue (``pending``). The observer first gets what the current answer has
said so far, then every ``chunk``, ``complete`` and ``error`` of this and later answers of the
session, until ``error`` ``answer_lost`` (the replica generating that answer died).
"""

import asyncio
import json
from collections.abc import AsyncIterator

import redis.asyncio as redis
from sse_starlette import ServerSentEvent

from chat import metrics
from chat.observation.hub import ObserverHub
from chat.observation.schemas import ActiveStream, ActiveStreams
from chat.sessions.records import SessionRecord
from chat.streaming.events import StreamEvent
from chat.streaming.recovery.lost_answers import ANSWER_LOST
from chat.streaming.resume_log.stream_log import StreamLog
from chat.streaming.service import StreamService
from service_kit import ApiError

FORWARDED = frozenset({"chunk", "complete", "error"})
LISTED_FIELDS = frozenset({"streamingSessionId", "sessionId", "userId", "modelId", "startedAt"})


class Observation:
    """One observer of one session, from ``open`` until ``close``."""

    def __init__(
        self,
        observers: ObserverHub,
        log: StreamLog,
        session: SessionRecord,
        queue: asyncio.Queue[StreamEvent],
        pending: list[StreamEvent],
    ) -> None:
        self._observers = observers
        self._log = log
        self._session = session
        self._queue = queue
        self._pending = pending

    @classmethod
    async def open(
        cls, observers: ObserverHub, streams: StreamService, session: SessionRecord
    ) -> "Observation":
        """Start observing: 503 ``observation_unavailable`` when Redis cannot subscribe."""
        queue = observers.open(session.id)
        pending = streams.local_events(session.id)
        try:
            await observers.listen(session.id)
        except BaseException as exc:  # Redis failed, or the client left meanwhile: drop the queue
            await asyncio.shield(observers.unsubscribe(session.id, queue))
            if isinstance(exc, redis.RedisError):
                raise ApiError(
                    503, "observation_unavailable", "Live observation is unavailable right now"
                ) from exc
            raise
        return cls(observers, streams.deps.log, session, queue, pending)

    async def close(self) -> None:
        await asyncio.shield(self._observers.unsubscribe(self._session.id, self._queue))

    async def events(self, max_seconds: float) -> AsyncIterator[ServerSentEvent | bytes]:
        """``observer`` with the answer so far, then the session's events as SSE frames, for
        at most ``max_seconds``."""
        metrics.OBSERVERS.inc()
        try:
            seen, opening = await self._so_far()
            yield opening
            deadline = asyncio.get_running_loop().time() + max_seconds
            while True:
                # Not around the yield: the timeout would cancel the response's own task.
                async with asyncio.timeout_at(deadline):
                    event = await self._queue.get()
                if (
                    event.seq <= seen.get(event.streaming_session_id, 0)
                    or event.event not in FORWARDED
                ):
                    continue
                seen[event.streaming_session_id] = event.seq
                yield event.sse_frame
                if event.event == "error" and event.data.get("code") == ANSWER_LOST:
                    # Its replica died: the observer ends too, and reconnects to go on.
                    return
        except TimeoutError:
            return
        finally:
            metrics.OBSERVERS.dec()

    async def _so_far(self) -> tuple[dict[str, int], ServerSentEvent]:
        """(the last seq seen of each answer, the ``observer`` event with the current answer
        so far) from the log and the events pending here."""
        session, pending = self._session, self._pending
        live = await self._log.live_stream_of(session.id)
        if live is None and pending:
            live = pending[0].streaming_session_id  # started here, not yet in Redis
        seen = {e.streaming_session_id: e.seq for e in sorted(pending, key=lambda e: e.seq)}
        history: list[StreamEvent] = []
        if live is not None:
            logged = await self._log.replay(live)
            history = sorted(
                {e.seq: e for e in [*logged, *pending] if e.streaming_session_id == live}.values(),
                key=lambda e: e.seq,
            )
            if history:
                seen[live] = history[-1].seq
        partial = "".join(e.data["content"] for e in history if e.event == "chunk")
        model_id = next(
            (e.data["modelId"] for e in history if e.event == "model"), session.model_id
        )
        opening = ServerSentEvent(
            event="observer",
            data=json.dumps(
                {
                    "sessionId": session.id,
                    "userId": session.user_id,
                    "modelId": model_id,
                    "partialResponse": partial,
                }
            ),
        )
        return seen, opening


async def active_streams(log: StreamLog) -> ActiveStreams:
    """The answers being generated now, on every replica whose heartbeat is alive."""
    return ActiveStreams(
        streams=[
            ActiveStream(
                streaming_session_id=s["streamingSessionId"],
                session_id=s["sessionId"],
                user_id=s["userId"],
                username=s.get("username", ""),
                model_id=s["modelId"],
                started_at=float(s["startedAt"]),
            )
            for s in await log.active()
            if LISTED_FIELDS <= s.keys()  # a hash cut short (a Redis restart) is left out
        ]
    )
