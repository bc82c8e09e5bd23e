import asyncio
import json

import redis.asyncio as redis
from fastapi import APIRouter, Request
from sse_starlette import ServerSentEvent

from chat import metrics
from chat.dependencies import Observers, ReadableSession, Streams
from chat.schemas import CamelModel
from chat.streaming.recovery import ANSWER_LOST
from chat.streaming.router import to_sse
from chat.streaming.sse import StreamResponse
from jwt_contract.dependencies import RequireSupervisor
from service_kit import ApiError, error_responses

router = APIRouter(prefix="/api/chat", tags=["observation"])

FORWARDED = frozenset({"chunk", "complete", "error"})
LISTED_FIELDS = frozenset({"streamingSessionId", "sessionId", "userId", "modelId", "startedAt"})


class ActiveStream(CamelModel):
    streaming_session_id: str
    session_id: str
    user_id: str
    username: str
    model_id: str
    started_at: float


class ActiveStreams(CamelModel):
    streams: list[ActiveStream]


@router.get(
    "/sessions/{session_id}/observe",
    summary="Watch a session's answers live (supervisor, admin)",
    description="Server-Sent Events: first `observer` {sessionId, userId, modelId, "
    "partialResponse} with what the current answer has said so far, then the same `chunk`, "
    "`complete` and `error` events the user gets, for this and later answers in the session. "
    "It ends after an `error` `answer_lost` (the replica generating that answer died).",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream"},
        **error_responses(401, 403, 404, 503),
    },
)
async def observe(
    request: Request,
    _: RequireSupervisor,
    session: ReadableSession,
    observers: Observers,
    streams: Streams,
) -> StreamResponse:
    settings = request.app.state.settings
    session_id = session["_id"]
    # Subscribe before reading the log: nothing said in between can be missed, and what is
    # seen twice is dropped by its sequence number. An answer served here comes straight from
    # its producer from ``open`` on; what Redis may lack of it before then is ``pending``.
    queue = observers.open(session_id)
    pending = streams.local_events(session_id)
    try:
        await observers.listen(session_id)
    except BaseException as exc:  # Redis failed, or the client left meanwhile: drop the queue
        await asyncio.shield(observers.unsubscribe(session_id, queue))
        if isinstance(exc, redis.RedisError):
            raise ApiError(
                503, "observation_unavailable", "Live observation is unavailable right now"
            ) from exc
        raise

    async def events():
        metrics.OBSERVERS.inc()
        try:
            live = await streams.deps.log.live_stream_of(session_id)
            if live is None and pending:
                live = pending[0].stream_id  # started here, not yet in Redis
            logged = await streams.deps.log.replay(live) if live else []
            history = sorted(
                {e.seq: e for e in [*logged, *pending] if e.stream_id == live}.values(),
                key=lambda e: e.seq,
            )
            seen = {e.stream_id: e.seq for e in sorted(pending, key=lambda e: e.seq)}
            if history:
                seen[live] = history[-1].seq
            partial = "".join(e.data["content"] for e in history if e.event == "chunk")
            model_id = next(
                (e.data["modelId"] for e in history if e.event == "model"), session["modelId"]
            )
            yield ServerSentEvent(
                event="observer",
                data=json.dumps(
                    {
                        "sessionId": session_id,
                        "userId": session["userId"],
                        "modelId": model_id,
                        "partialResponse": partial,
                    }
                ),
            )
            deadline = asyncio.get_running_loop().time() + settings.observe_max_seconds
            while True:
                # Not around the yield: the timeout would cancel the response's own task.
                async with asyncio.timeout_at(deadline):
                    event = await queue.get()
                if event.seq <= seen.get(event.stream_id, 0) or event.event not in FORWARDED:
                    continue
                seen[event.stream_id] = event.seq
                yield to_sse(event)
                if event.event == "error" and event.data.get("code") == ANSWER_LOST:
                    # Its replica died: the observer ends too, and reconnects to go on.
                    return
        except TimeoutError:
            return
        finally:
            metrics.OBSERVERS.dec()

    return StreamResponse(
        events(),
        on_close=lambda: asyncio.shield(observers.unsubscribe(session_id, queue)),
        ping=settings.heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/streams/active",
    summary="Answers being generated now, on every replica (supervisor, admin)",
    responses=error_responses(401, 403),
)
async def active_streams(_: RequireSupervisor, streams: Streams) -> ActiveStreams:
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
            for s in await streams.deps.log.active()
            if LISTED_FIELDS <= s.keys()  # a hash cut short (a Redis restart) is left out
        ]
    )
