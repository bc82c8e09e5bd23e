from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from chat.dependencies import (
    Catalog,
    OwnedSessionRecord,
    OwnedSessionWrite,
    ReadableSessionRecord,
    Sessions,
    Streams,
)
from chat.idempotency.dependencies import IdempotencyKeys
from chat.idempotency.keys import Answering
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
from chat.streaming.service import answer_whole, whole_answer
from idempotency import (
    IDEMPOTENCY_RESPONSES,
    IdempotencyKey,
    StoredResponse,
    replayed_header_doc,
)
from jwt_contract.dependencies import BearerToken, CurrentPrincipal
from service_kit import error_responses

router = APIRouter(prefix="/api/chat/sessions", tags=["sessions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a chat session (needs credits)",
    description="Counts against the request limit and against SESSION_CREATES_PER_MINUTE. "
    "With an `Idempotency-Key` (per caller), a retry with the same key and body within 24 h "
    "answers the first response again (`Idempotent-Replayed: true`) and makes no second "
    "session; the same key with another body → 422 `idempotency_key_reused`.",
    response_model=SessionOut,
    responses={
        201: {"headers": replayed_header_doc()},
        **error_responses(400, 401, 402, 413, 422, 429, 503),
        **IDEMPOTENCY_RESPONSES,
    },
)
async def create_session(
    body: CreateSessionRequest,
    principal: CurrentPrincipal,
    token: BearerToken,
    sessions: Sessions,
    keys: IdempotencyKeys,
    idempotent: IdempotencyKey,
) -> SessionOut | Response:
    if idempotent is None:
        return await sessions.create(principal, token, body)
    claimed = await keys.claim(principal.user_id, idempotent)
    if isinstance(claimed, StoredResponse):
        return claimed.response(replayed=True)
    if isinstance(claimed, Answering):  # only answers note one: not this route's key
        raise AssertionError("a session's key never starts an answer")
    try:
        created = await sessions.create(principal, token, body, session_id=claimed.work_id)
    except BaseException:
        await keys.release(claimed)
        raise
    answered = StoredResponse.json(status.HTTP_201_CREATED, created)
    await keys.record(claimed.caller, claimed.key, answered)
    return answered.response(replayed=False)


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
    description="With an `Idempotency-Key` (per caller) the answer is generated and charged "
    "once per key: a retry with the same key and body within 24 h answers the first response "
    "again (`Idempotent-Replayed: true`), waiting for that same answer while it is being "
    "generated; the same key with another body → 422 `idempotency_key_reused`.",
    response_model=SendMessageResponse,
    responses={
        200: {"headers": replayed_header_doc()},
        **error_responses(400, 401, 402, 404, 413, 422, 429, 502, 503),
        **IDEMPOTENCY_RESPONSES,
    },
)
async def send_message(
    body: SendMessageRequest,
    session: OwnedSessionRecord,
    principal: CurrentPrincipal,
    token: BearerToken,
    sessions: Sessions,
    streams: Streams,
    catalog: Catalog,
    keys: IdempotencyKeys,
    idempotent: IdempotencyKey,
) -> SendMessageResponse | Response:
    claimed = None
    if idempotent is not None:
        kept = await keys.claim(principal.user_id, idempotent)
        if isinstance(kept, StoredResponse):
            return kept.response(replayed=True)
        if isinstance(kept, Answering):  # generated for the first request: followed here
            again = await streams.again(session, kept.streaming_session_id)
            whole = StoredResponse.json(200, await whole_answer(again, body.message))
            await keys.record(principal.user_id, idempotent.key, whole)
            return whole.response(replayed=True)
        claimed = kept
    try:
        sessions.check_length(body.message)
        model = catalog.resolve(body.model_id or session.model_id, principal)
        producer = await streams.start(principal, token, session, body.message, model)
        if claimed is not None:  # before anything is generated
            await keys.note_answer(claimed, producer.request.streaming_session_id)
    except BaseException:
        if claimed is not None:  # refused: a retry runs again
            await keys.release(claimed)
        raise
    answered = await answer_whole(streams, producer, body.message)
    if claimed is None:
        return answered
    whole = StoredResponse.json(200, answered)
    await keys.record(claimed.caller, claimed.key, whole)
    return whole.response(replayed=False)


@router.post(
    "/{session_id}/update-stream",
    summary="Accepted for compatibility; billing always uses the tokens the server measured",
    description="Nothing the body says changes a charge or a stored answer; the call counts "
    "against the request limit like any other write.",
    responses=error_responses(401, 404, 422, 429),
)
async def update_stream(body: UpdateStreamRequest, session: OwnedSessionWrite) -> Acknowledged:
    return Acknowledged(message="Noted; billing uses the server's token count, not the client's")
