"""The observation routes: a supervisor's live view of a session, and the answers being
generated on every replica (``service`` does the work)."""

from fastapi import APIRouter

from chat.dependencies import Observers, ReadableSessionRecord, Streams
from chat.observation import service
from chat.observation.schemas import ActiveStreams
from chat.streaming.sse import StreamResponse
from jwt_contract.dependencies import RequireSupervisor
from service_kit import error_responses

router = APIRouter(prefix="/api/chat", tags=["observation"])


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
    _: RequireSupervisor,
    session: ReadableSessionRecord,
    observers: Observers,
    streams: Streams,
) -> StreamResponse:
    observation = await service.Observation.open(observers, streams, session)
    settings = streams.settings
    return StreamResponse(
        observation.events(settings.observe_max_seconds),
        on_close=observation.close,
        ping=settings.heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/streams/active",
    summary="Answers being generated now, on every replica (supervisor, admin)",
    responses=error_responses(401, 403),
)
async def active_streams(_: RequireSupervisor, streams: Streams) -> ActiveStreams:
    return await service.active_streams(streams.deps.log)
