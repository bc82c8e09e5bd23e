"""`/v1/chat/completions` and `/v1/models`: the OpenAI API over the same metered answers.

A completion is an answer like any other: the caller's credits are reserved first, the model
is asked for at most what the hold covers, and the usage is recorded and billed the same way.
The request carries the whole conversation, so nothing but the answer (with its usage record)
is stored, under a session id of its own (``api-…``).
"""

import json
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from chat.config import ChatSettings
from chat.dependencies import Catalog, Streams
from chat.openai_api.schemas import (
    CompletionRequest,
    ModelObject,
    ModelObjectList,
    chunk,
    completion,
    usage_chunk,
    usage_of,
)
from chat.streaming.production.request import Conversation
from chat.streaming.sse import StreamResponse
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
    "(422 validation_error).",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The completion; with `stream: true`, its chunks as Server-Sent Events",
        },
        **error_responses(400, 401, 402, 413, 422, 429, 502, 503),
    },
)
async def chat_completions(
    body: CompletionRequest,
    principal: CurrentPrincipal,
    token: BearerToken,
    streams: Streams,
    catalog: Catalog,
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
    session = Conversation(f"api-{uuid.uuid4()}", stored=False)
    requested = body.max_completion_tokens or body.max_tokens
    producer = await streams.start(
        principal,
        token,
        session,
        message,
        model,
        history=earlier,
        max_tokens=requested,
        system=system,
    )
    completion_id = f"chatcmpl-{producer.request.streaming_session_id}"
    created = int(time.time())
    if not body.stream:
        pieces: list[str] = []
        async for event in streams.follow_new(producer):
            if event.event == "chunk":
                pieces.append(event.data["content"])
            elif event.event == "error":
                raise ApiError(502, event.data["code"], event.data["message"])
            elif event.event == "complete":
                return JSONResponse(
                    completion(
                        completion_id,
                        created,
                        model.id,
                        "".join(pieces),
                        "stop",
                        usage_of(event.data),
                    )
                )
        raise ApiError(502, "provider_error", "The answer ended without completing")

    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    following = streams.follow_new(producer)

    async def sse() -> AsyncIterator[str]:
        yield json.dumps(
            chunk(completion_id, created, model.id, {"role": "assistant", "content": ""})
        )
        async for event in following:
            if event.event == "chunk":
                delta = {"content": event.data["content"]}
                yield json.dumps(chunk(completion_id, created, model.id, delta))
            elif event.event == "error":
                yield json.dumps(
                    {"error": {"message": event.data["message"], "code": event.data["code"]}}
                )
                return
            elif event.event == "complete":
                yield json.dumps(chunk(completion_id, created, model.id, {}, "stop"))
                if include_usage:
                    usage = usage_of(event.data)
                    yield json.dumps(usage_chunk(completion_id, created, model.id, usage))
                yield "[DONE]"
                return

    return StreamResponse(sse(), on_close=following.aclose, ping=streams.settings.heartbeat_seconds)


@router.get(
    "/models",
    summary="The models the caller may use, in OpenAI's format",
    responses=error_responses(401),
)
async def models(principal: CurrentPrincipal, catalog: Catalog) -> ModelObjectList:
    return ModelObjectList(
        data=[ModelObject(id=m.id, owned_by=m.provider) for m in catalog.for_principal(principal)]
    )
