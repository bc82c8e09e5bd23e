from typing import Annotated

from fastapi import APIRouter, Query, status

from chat.dependencies import (
    Catalog,
    OwnedSessionRecord,
    OwnedSessionWrite,
    ReadableSessionRecord,
    Sessions,
    Streams,
)
from chat.sessions.schemas import (
    Acknowledged,
    CreateSessionRequest,
    MessageList,
    SendMessageRequest,
    SendMessageResponse,
    SessionDetail,
    SessionList,
    SessionOut,
    UpdateStreamRequest,
)
from chat.streaming.service import answer_whole
from jwt_contract.dependencies import BearerToken, CurrentPrincipal
from service_kit import error_responses

router = APIRouter(prefix="/api/chat/sessions", tags=["sessions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a chat session (needs credits)",
    description="Counts against the request limit and against SESSION_CREATES_PER_MINUTE.",
    responses=error_responses(400, 401, 402, 413, 422, 429, 503),
)
async def create_session(
    body: CreateSessionRequest, principal: CurrentPrincipal, token: BearerToken, sessions: Sessions
) -> SessionOut:
    return await sessions.create(principal, token, body)


@router.get("", summary="The caller's sessions, newest first", responses=error_responses(401, 422))
async def list_sessions(
    principal: CurrentPrincipal,
    sessions: Sessions,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SessionList:
    return await sessions.page(principal, page, limit)


@router.get(
    "/{session_id}",
    summary="A session with its messages (owner; supervisors and admins may read any)",
    responses=error_responses(401, 404),
)
async def get_session(session: ReadableSessionRecord, sessions: Sessions) -> SessionDetail:
    return await sessions.detail(session)


@router.delete(
    "/{session_id}",
    summary="Delete a session (owner)",
    responses=error_responses(401, 404, 429),
)
async def delete_session(session: OwnedSessionWrite, sessions: Sessions) -> Acknowledged:
    await sessions.delete(session)
    return Acknowledged(message="Session deleted")


@router.get(
    "/{session_id}/messages",
    summary="A session's messages (owner)",
    responses=error_responses(401, 404),
)
async def list_messages(session: OwnedSessionRecord, sessions: Sessions) -> MessageList:
    return MessageList(messages=await sessions.messages(session))


@router.post(
    "/{session_id}/messages",
    summary="Ask and get the whole answer at once (not streamed); metered like a stream",
    responses=error_responses(400, 401, 402, 404, 413, 422, 429, 502, 503),
)
async def send_message(
    body: SendMessageRequest,
    session: OwnedSessionRecord,
    principal: CurrentPrincipal,
    token: BearerToken,
    sessions: Sessions,
    streams: Streams,
    catalog: Catalog,
) -> SendMessageResponse:
    sessions.check_length(body.message)
    model = catalog.resolve(body.model_id or session.model_id, principal)
    producer = await streams.start(principal, token, session, body.message, model)
    return await answer_whole(streams, producer, body.message)


@router.post(
    "/{session_id}/update-stream",
    summary="Accepted for compatibility; billing always uses the tokens the server measured",
    description="Nothing the body says changes a charge or a stored answer; the call counts "
    "against the request limit like any other write.",
    responses=error_responses(401, 404, 422, 429),
)
async def update_stream(body: UpdateStreamRequest, session: OwnedSessionWrite) -> Acknowledged:
    return Acknowledged(message="Noted; billing uses the server's token count, not the client's")
