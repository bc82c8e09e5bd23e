"""The answer stream's routes: HTTP (body or query, Last-Event-ID) to ``StreamService`` and
its events back as Server-Sent Events."""

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from chat.catalog.catalog import ModelCatalog
from chat.dependencies import Catalog, OwnedSessionRecord, Sessions, Streams
from chat.idempotency.dependencies import IdempotencyKeys
from chat.idempotency.keys import Answering, Claimed, Keyed
from chat.sessions.records import SessionRecord
from chat.sessions.schemas import SendMessageRequest
from chat.sessions.service import SessionsService
from chat.streaming.events import BadLastEventId, StreamEvent, parse_last_event_id
from chat.streaming.service import StreamService
from chat.streaming.sse import StreamResponse
from idempotency import (
    IDEMPOTENCY_RESPONSES,
    REPLAYED_HEADER,
    IdempotencyKey,
    StoredResponse,
    replayed_header_doc,
)
from jwt_contract import Principal
from jwt_contract.dependencies import BearerToken, CurrentPrincipal
from service_kit import ApiError, error_responses

router = APIRouter(prefix="/api/chat/sessions", tags=["streaming"])

STREAM_DOC = """Server-Sent Events: `model` {modelId, streamingSessionId}, then `chunk`
{content, tokenCount} per piece (tokenCount counts the pieces so far), then `complete`
{sessionId, tokensUsed, creditsUsed, messageId} or `error` {message, code}. Every event has an
`id`; send the last one back as `Last-Event-ID` to resume a recent answer with no gap and no
duplicate. Heartbeats are SSE comments. Errors before the stream starts (402, 429, 400
invalid_model, 503: `model_unavailable` when the health probe found the model unavailable, or
a service down; 422 `byok_endpoint_refused` when the caller's OpenAI-compatible BYOK credential
names a baseUrl that may not be called now) are ordinary JSON responses.

Error codes that end a stream: `cancelled`, `timeout`, `provider_error` (and the provider's
own), `hold_lost` (the credit hold could not be kept; billed for what was generated),
`answer_lost` (the replica producing it died; what was streamed is stored with status `lost`
and billed), `answer_not_stored` (the database could not take the answer; nothing is
charged), `resume_gap` (the events after Last-Event-ID are no longer kept; ask again).

With an `Idempotency-Key` (per caller; POST only, without Last-Event-ID) the answer is
generated and charged once per key: a retry with the same key and body within 24 h is
attached to that same answer, live or over, and gets it from its first event
(`Idempotent-Replayed: true`): from the resume log while it keeps the answer, then rebuilt
from the stored answer (`model`, the whole text in one `chunk`, its end). Two requests with
one key at once get one answer. The same key with another body → 422
`idempotency_key_reused`; a key whose first request has not reserved its credits within 5 s
→ 409 `idempotency_key_in_progress`.

Resuming is free (not counted against the request limit) and works only for an answer of this
session: any other id, another user's or another session's included, gets the same 410
`stream_expired` as an answer no longer kept. A Last-Event-ID that is not an id as sent
(`{streamingSessionId}:{seq}`, the seq at most 18 digits) is 400 `validation_error`; an empty
one means a new answer. When the answer is over and the client has had all of it, the answer
is 204 (what tells an EventSource to stop reconnecting)."""


def to_sse(event: StreamEvent) -> bytes:
    """The event's SSE frame, encoded once however many connections it goes to."""
    return event.sse_frame


async def _stream(
    session: SessionRecord,
    principal: Principal,
    token: str,
    streams: StreamService,
    sessions: SessionsService,
    catalog: ModelCatalog,
    message: object,
    model_id: object,
    last_event_id: str | None,
    once: Keyed | None = None,
) -> Response:
    try:
        resume = parse_last_event_id(last_event_id)
    except BadLastEventId as exc:
        raise ApiError(400, "validation_error", str(exc)) from None
    on_close: Callable[[], Awaitable[None]] | None = None
    events: AsyncIterable[StreamEvent]
    if resume is not None:  # resuming makes nothing: a key it carries is not looked at
        streaming_session_id, seq = resume
        resumed = await streams.resume(session, streaming_session_id, seq)
        if resumed is None:
            return Response(status_code=204)
        events = resumed
    else:
        claimed: Claimed | None = None
        if once is not None:
            kept = await once.keys.claim(principal.user_id, once.request)
            if isinstance(kept, Answering):
                again = await streams.again(session, kept.streaming_session_id)
                return _sse_response(again, None, streams, {REPLAYED_HEADER: "true"})
            if isinstance(kept, StoredResponse):  # only a whole answer keeps one: not here
                return kept.response(replayed=True)
            claimed = kept
        try:
            try:
                body = SendMessageRequest.model_validate({"message": message, "modelId": model_id})
            except ValidationError as exc:
                raise RequestValidationError(exc.errors()) from None
            sessions.check_length(body.message)
            model = catalog.resolve(body.model_id or session.model_id, principal)
            producer = await streams.start(principal, token, session, body.message, model)
            if once is not None and claimed is not None:  # before anything is generated
                await once.keys.note_answer(claimed, producer.request.streaming_session_id)
        except BaseException:
            if once is not None and claimed is not None:  # refused: a retry runs again
                await once.keys.release(claimed)
            raise
        following = streams.follow_new(producer)
        events, on_close = following, following.aclose
    return _sse_response(events, on_close, streams)


def _sse_response(
    events: AsyncIterable[StreamEvent],
    on_close: Callable[[], Awaitable[None]] | None,
    streams: StreamService,
    headers: dict[str, str] | None = None,
) -> Response:
    async def sse() -> AsyncIterator[bytes]:
        async for event in events:
            yield to_sse(event)

    return StreamResponse(
        sse(),
        on_close=on_close,
        ping=streams.settings.heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})},
    )


@router.post(
    "/{session_id}/stream",
    summary="Ask and receive the answer as it is generated (SSE)",
    description=STREAM_DOC,
    openapi_extra={
        "requestBody": {
            "required": False,
            "description": "Omit it when resuming with Last-Event-ID",
            "content": {
                "application/json": {"schema": SendMessageRequest.model_json_schema(by_alias=True)}
            },
        }
    },
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The event stream",
            "headers": replayed_header_doc(),
        },
        204: {"description": "Resumed an answer that is over, all of it already received"},
        **error_responses(400, 401, 402, 404, 410, 413, 422, 429, 503),
        **IDEMPOTENCY_RESPONSES,
    },
)
async def stream_post(
    request: Request,
    session: OwnedSessionRecord,
    principal: CurrentPrincipal,
    token: BearerToken,
    streams: Streams,
    sessions: Sessions,
    catalog: Catalog,
    keys: IdempotencyKeys,
    idempotent: IdempotencyKey,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    body: dict[str, object] = {}
    if request.headers.get("content-length", "0") != "0":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(422, "validation_error", "The body must be JSON") from None
        if not isinstance(body, dict):
            raise ApiError(422, "validation_error", "The body must be a JSON object")
    return await _stream(
        session,
        principal,
        token,
        streams,
        sessions,
        catalog,
        body.get("message"),
        body.get("modelId"),
        last_event_id,
        Keyed.of(keys, idempotent),
    )


@router.get(
    "/{session_id}/stream",
    summary="Same as POST, with the message in the query string (for EventSource clients)",
    description=STREAM_DOC,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream"},
        204: {"description": "Resumed an answer that is over, all of it already received"},
        **error_responses(400, 401, 402, 404, 410, 413, 422, 429, 503),
    },
)
async def stream_get(
    session: OwnedSessionRecord,
    principal: CurrentPrincipal,
    token: BearerToken,
    streams: Streams,
    sessions: Sessions,
    catalog: Catalog,
    message: Annotated[str | None, Query()] = None,
    model_id: Annotated[str | None, Query(alias="modelId", max_length=200)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    return await _stream(
        session,
        principal,
        token,
        streams,
        sessions,
        catalog,
        message,
        model_id,
        last_event_id,
    )
