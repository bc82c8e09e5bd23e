"""`/v1/chat/completions` and `/v1/models`: the OpenAI API over the same metered answers.

A completion is an answer like any other: the caller's credits are reserved first, the model
is asked for at most what the hold covers, and the usage is recorded and billed the same way.
The request carries the whole conversation, so nothing but the answer (with its usage record)
is stored, under a session id of its own (``api-…``). With an ``Idempotency-Key`` the answer
is made once per key, as a chat message's is (``chat.idempotency``): its session id is the
key's ``workId``, so a retry finds and follows the answer the key started.
"""

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import Response

from chat.config import ChatSettings
from chat.dependencies import Catalog, Streams
from chat.idempotency.dependencies import IdempotencyKeys
from chat.idempotency.keys import Answering, Claimed
from chat.openai_api.answers import Completion, api_session, chunks, whole
from chat.openai_api.schemas import CompletionRequest, ModelObject, ModelObjectList
from chat.streaming.production.request import Conversation
from chat.streaming.service import StreamService
from chat.streaming.sse import StreamResponse
from idempotency import (
    IDEMPOTENCY_RESPONSES,
    REPLAYED_HEADER,
    IdempotencyKey,
    StoredResponse,
    replayed_header_doc,
)
from jwt_contract.dependencies import BearerToken, CurrentPrincipal
from service_kit import ApiError, error_responses

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def conversation(request: CompletionRequest) -> tuple[str | None, list[dict[str, str]], str]:
    """(system prompt, earlier messages as stored messages, the last user message)."""
    system = "\n\n".join(m.text() for m in request.messages if m.role in ("system", "developer"))
    spoken = [m for m in request.messages if m.role in ("user", "assistant")]
    if spoken and spoken[-1].role == "user" and not spoken[-1].text().strip():
        raise ApiError(400, "invalid_request", "The last message is blank")
    # Providers refuse a turn of only whitespace (Bedrock: "... is blank"): such turns, like
    # empty ones, are left out.
    turns = [m for m in spoken if m.text().strip()]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "invalid_request", "The last message must be the user's")
    earlier = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
    return (system if system.strip() else None), earlier, turns[-1].text()


def check_size(request: CompletionRequest, settings: ChatSettings) -> None:
    """413 for more messages, or more text, than one request may carry."""
    count, limit = len(request.messages), settings.max_completion_messages
    if count > limit:
        raise ApiError(
            413, "payload_too_large", f"{count:,} messages; the limit is {limit:,} a request"
        )
    chars, limit = request.text_chars(), settings.max_conversation_chars
    if chars > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"The messages carry {chars:,} characters; the limit is {limit:,} a request",
        )


@router.post(
    "/chat/completions",
    summary="OpenAI chat completions (streaming and not), metered like any chat",
    description="Counts against the request limit (429 with Retry-After). At most "
    "MAX_COMPLETION_MESSAGES messages carrying at most MAX_CONVERSATION_CHARS characters of "
    "text, the last one at most MAX_MESSAGE_CHARS (413 payload_too_large); types are strict "
    "and the sampling parameters, accepted and ignored, are checked against OpenAI's ranges "
    "(422 validation_error).\n\n"
    "With an `Idempotency-Key` (per caller) the answer is generated and charged once per key, "
    "with `stream` true or false: a retry with the same key and body within 24 h, or a second "
    "request at once, is attached to that same answer (`Idempotent-Replayed: true`) under "
    "the same `id` and `created`; whole, it answers the first response again; streamed, it "
    "gets the answer from its first chunk (once the answer is no longer kept live, rebuilt "
    "from the stored answer: its whole text in one chunk). The same key with another body → "
    "422 `idempotency_key_reused`; a key whose first request has not reserved its credits "
    "within 5 s → 409 `idempotency_key_in_progress`. 422 `byok_endpoint_refused`: the caller's "
    "OpenAI-compatible BYOK credential names a baseUrl that may not be called now (in "
    "production: not https, or its host resolves to a private, loopback or link-local address).",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The completion; with `stream: true`, its chunks as Server-Sent Events",
            "headers": replayed_header_doc(),
        },
        **error_responses(400, 401, 402, 413, 422, 429, 502, 503),
        **IDEMPOTENCY_RESPONSES,
    },
)
async def chat_completions(
    body: CompletionRequest,
    principal: CurrentPrincipal,
    token: BearerToken,
    streams: Streams,
    catalog: Catalog,
    keys: IdempotencyKeys,
    idempotent: IdempotencyKey,
) -> Response:
    check_size(body, streams.settings)
    model = catalog.resolve(body.model, principal)
    system, earlier, message = conversation(body)
    if len(message) > streams.settings.max_message_chars:
        raise ApiError(
            413,
            "payload_too_large",
            f"The last message is {len(message):,} characters; the limit is "
            f"{streams.settings.max_message_chars:,}",
        )
    include_usage = bool(body.stream and body.stream_options and body.stream_options.include_usage)
    claimed: Claimed | None = None
    if idempotent is not None:
        kept = await keys.claim(principal.user_id, idempotent)
        if isinstance(kept, StoredResponse):
            return kept.response(replayed=True)
        if isinstance(kept, Answering):  # generated for the first request: followed here
            asked = api_session(f"api-{kept.work_id}", principal.user_id, model.id, kept.claimed_at)
            again = await streams.again(asked, kept.streaming_session_id)
            named = Completion.of(
                kept.streaming_session_id, kept.claimed_at.timestamp(), model.id, include_usage
            )
            if body.stream:
                return _sse(chunks(again, named), None, streams, replayed=True)
            whole_again = await whole(again, named)
            await keys.record(principal.user_id, idempotent.key, whole_again)
            return whole_again.response(replayed=True)
        claimed = kept
    session_id = f"api-{uuid.uuid4() if claimed is None else claimed.work_id}"
    async with keys.given_up_if_refused(claimed):
        producer = await streams.start(
            principal,
            token,
            Conversation(session_id, stored=False),
            message,
            model,
            history=earlier,
            max_tokens=body.max_completion_tokens or body.max_tokens,
            system=system,
        )
        if claimed is not None:  # before anything is generated
            await keys.note_answer(claimed, producer.request.streaming_session_id)
    asked_at = time.time() if claimed is None else claimed.claimed_at.timestamp()
    named = Completion.of(producer.request.streaming_session_id, asked_at, model.id, include_usage)
    following = streams.follow_new(producer)
    if body.stream:
        return _sse(chunks(following, named), following.aclose, streams)
    answered = await whole(following, named)
    if claimed is not None:
        await keys.record(claimed.caller, claimed.key, answered)
    return answered.response(replayed=False)


def _sse(
    payloads: AsyncIterator[str],
    on_close: Callable[[], Awaitable[None]] | None,
    streams: StreamService,
    *,
    replayed: bool = False,
) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return StreamResponse(
        payloads, on_close=on_close, ping=streams.settings.heartbeat_seconds, headers=headers
    )


@router.get(
    "/models",
    summary="The models the caller may use, in OpenAI's format",
    responses=error_responses(401, 503),
)
async def models(principal: CurrentPrincipal, catalog: Catalog) -> ModelObjectList:
    return ModelObjectList(
        data=[ModelObject(id=m.id, owned_by=m.provider) for m in catalog.for_principal(principal)]
    )
