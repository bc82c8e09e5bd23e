from typing import Any

from fastapi import APIRouter, Path, Request, Response

from model_simulator.bedrock.answers import begin, converse_answer, converse_stream_answer
from model_simulator.bedrock.errors import BedrockRoute
from model_simulator.bedrock.event_stream import CONTENT_TYPE
from model_simulator.bedrock.schemas import ConverseRequest, ConverseResponse
from model_simulator.dependencies import Conditions, Settings
from model_simulator.streaming import InterruptibleResponse

router = APIRouter(prefix="/model", tags=["bedrock runtime"], route_class=BedrockRoute)

ModelId = Path(description="Any model id or ARN, URL-encoded (':' as %3A)")
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "ValidationException (x-amzn-ErrorType header, JSON {message})"},
    424: {"description": "ModelErrorException: the error-after=N fault without streaming"},
    429: {"description": "ThrottlingException: the throttle fault"},
    500: {"description": "InternalServerException: the fail fault"},
    503: {"description": "ServiceUnavailableException: the model was made unavailable"},
}


@router.post(
    "/{model_id:path}/converse",
    response_model=ConverseResponse,
    summary="Bedrock Converse: the whole simulated answer",
    responses=ERRORS,
)
async def converse(
    body: ConverseRequest,
    request: Request,
    settings: Settings,
    conditions: Conditions,
    model_id: str = ModelId,
) -> Response:
    sim = begin(model_id, body, request.headers, settings, conditions.of(model_id))
    return InterruptibleResponse(converse_answer(sim))


@router.post(
    "/{model_id:path}/converse-stream",
    summary="Bedrock ConverseStream: the simulated answer as an AWS event stream",
    description="Events: messageStart, contentBlockDelta per token, contentBlockStop, "
    "messageStop, metadata; error-after=N sends a modelStreamErrorException event instead.",
    responses={200: {"content": {CONTENT_TYPE: {}}}, **ERRORS},
)
async def converse_stream(
    body: ConverseRequest,
    request: Request,
    settings: Settings,
    conditions: Conditions,
    model_id: str = ModelId,
) -> Response:
    sim = begin(model_id, body, request.headers, settings, conditions.of(model_id))
    return InterruptibleResponse(converse_stream_answer(sim))
