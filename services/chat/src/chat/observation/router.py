import asyncio
import json
import time

from fastapi import APIRouter, Request
from sse_starlette import ServerSentEvent

from chat import metrics
from chat.dependencies import Observers, ReadableSession, Streams
from chat.schemas import CamelModel
from chat.streaming.router import to_sse
from chat.streaming.sse import StreamResponse
from jwt_contract.dependencies import RequireSupervisor
from service_kit import error_responses

router = APIRouter(prefix="/api/chat", tags=["observation"])

FORWARDED = frozenset({"chunk", "complete", "error"})


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
    "`complete` and `error` events the user gets, for this and later answers in the session.",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream"},
        **error_responses(401, 403, 404),
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
    # seen twice is dropped by its sequence number.
    queue = await observers.subscribe(session_id)

    async def events():
        metrics.OBSERVERS.inc()
        try:
            live = await streams.deps.log.live_stream_of(session_id)
            history = await streams.deps.log.replay(live) if live else []
            seen = {live: history[-1].seq} if history else {}
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
            deadline = time.monotonic() + settings.observe_max_seconds
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    event = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    return
                if event.seq <= seen.get(event.stream_id, 0) or event.event not in FORWARDED:
                    continue
                seen[event.stream_id] = event.seq
                yield to_sse(event)
        finally:
            metrics.OBSERVERS.dec()
            await asyncio.shield(observers.unsubscribe(session_id, queue))

    return StreamResponse(
        events(),
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
        ]
    )
