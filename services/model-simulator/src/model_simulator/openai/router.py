from typing import Any

from fastapi import APIRouter, Request, Response

from model_simulator.anthropic.errors import not_found
from model_simulator.dependencies import Conditions, Settings
from model_simulator.openai.answers import begin, completion_answer, completion_stream_answer
from model_simulator.openai.errors import OpenAIRoute, model_not_found
from model_simulator.openai.schemas import (
    AnthropicModel,
    AnthropicModelList,
    ChatCompletion,
    ChatCompletionRequest,
    Model,
    ModelList,
)
from model_simulator.streaming import InterruptibleResponse

router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid_request_error, also for an unknown simulator directive"},
    429: {"description": "rate_limit_exceeded: the throttle fault"},
    500: {"description": "server_error: the fail fault, or error-after=N without streaming"},
    503: {"description": "server_error: the model was made unavailable (/sim/models)"},
}


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion: the simulated answer, whole or as server-sent chunks",
    description="With `stream: true`: `data: {chat.completion.chunk}` events (role first, one "
    "per token, then the finish_reason), a usage chunk with empty choices when "
    "`stream_options.include_usage`, then `data: [DONE]`. error-after=N sends "
    '`data: {"error": {...}}` and no [DONE].',
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, settings: Settings, conditions: Conditions
) -> Response:
    sim = begin(body, request.headers, settings, conditions.of(body.model))
    answer = completion_stream_answer if body.stream else completion_answer
    return InterruptibleResponse(answer(sim, body))


@router.get(
    "/models",
    summary="The configured model ids but the unavailable ones (any id is accepted by the API)",
    description="OpenAI's list; Anthropic's (`data`, `has_more`, `first_id`, `last_id`) for a "
    "request with `anthropic-version` or authenticated with `x-api-key`.",
    response_model=ModelList | AnthropicModelList,
    responses={401: {"description": "A key the simulator does not accept"}},
)
async def list_models(
    request: Request, settings: Settings, conditions: Conditions
) -> ModelList | AnthropicModelList:
    listed = [model_id for model_id in settings.models if conditions.is_listed(model_id)]
    if _is_anthropic(request):
        return AnthropicModelList(
            data=[AnthropicModel(id=m, display_name=m) for m in listed],
            first_id=listed[0] if listed else None,
            last_id=listed[-1] if listed else None,
        )
    return ModelList(data=[Model(id=model_id) for model_id in listed])


@router.get(
    "/models/{model_id:path}",
    summary="One configured model",
    description="OpenAI's model object; Anthropic's for a request with `anthropic-version` or "
    "authenticated with `x-api-key` (and its `not_found_error` for an unknown id).",
    response_model=Model | AnthropicModel,
    responses={404: {}},
)
async def get_model(
    model_id: str, request: Request, settings: Settings, conditions: Conditions
) -> Response | Model | AnthropicModel:
    known = model_id in settings.models and conditions.is_listed(model_id)
    if _is_anthropic(request):
        if not known:
            return not_found(model_id).response()
        return AnthropicModel(id=model_id, display_name=model_id)
    if not known:
        raise model_not_found(model_id)
    return Model(id=model_id)


def _is_anthropic(request: Request) -> bool:
    """Anthropic's clients send ``anthropic-version`` (provisioning's validate and older SDKs
    authenticate with ``x-api-key``, the SDK from 2.0 with a bearer key)."""
    headers = request.headers
    return "anthropic-version" in headers or (
        "x-api-key" in headers and "authorization" not in headers
    )
