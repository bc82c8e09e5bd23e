from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from model_simulator.anthropic.answers import begin, message_answer, message_stream_answer
from model_simulator.anthropic.errors import AnthropicRoute, invalid_request
from model_simulator.anthropic.schemas import ErrorBody, Message, MessagesRequest
from model_simulator.dependencies import Conditions, Settings
from model_simulator.streaming import InterruptibleResponse

router = APIRouter(prefix="/v1", tags=["anthropic"], route_class=AnthropicRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "invalid_request_error, also for an unknown simulator directive or a "
        "missing anthropic-version header",
    },
    401: {"model": ErrorBody, "description": "authentication_error: an x-api-key not accepted"},
    429: {"model": ErrorBody, "description": "rate_limit_error: the throttle fault"},
    500: {
        "model": ErrorBody,
        "description": "api_error: the fail fault, or error-after=N without streaming",
    },
    529: {
        "model": ErrorBody,
        "description": "overloaded_error: the model was made unavailable (/sim/models)",
    },
}


@router.post(
    "/messages",
    response_model=Message,
    summary="Anthropic Messages: the simulated answer, whole or as server-sent events",
    description="Authenticated with `x-api-key`; `anthropic-version` is required. With "
    "`stream: true`: `message_start` (input tokens), `content_block_start`, `ping`, one "
    "`content_block_delta` (`text_delta`) per token, `content_block_stop`, `message_delta` "
    "(stop reason, `usage.output_tokens`), `message_stop`. error-after=N sends an `error` "
    "event instead of the end.",
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def messages(
    body: MessagesRequest,
    request: Request,
    settings: Settings,
    conditions: Conditions,
    anthropic_version: Annotated[str | None, Header()] = None,
) -> Response:
    if not anthropic_version:
        raise invalid_request("anthropic-version: header is required")
    call = begin(body, request.headers, settings, conditions.of(body.model))
    answer = message_stream_answer if body.stream else message_answer
    return InterruptibleResponse(answer(call))
