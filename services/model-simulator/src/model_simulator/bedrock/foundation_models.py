"""Bedrock's control plane, as boto3's ``bedrock`` client calls it: ``ListFoundationModels``
(``GET /foundation-models``) and ``GetFoundationModel`` (``GET /foundation-models/{id}``).

Every configured model id is listed (the simulator serves any id over both protocols) except
the ones made unavailable; the ARN names the region the request was signed for.
"""

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from model_simulator.bedrock.errors import BedrockError, BedrockRoute
from model_simulator.bedrock.schemas import Wire
from model_simulator.dependencies import Conditions, Settings

router = APIRouter(prefix="/foundation-models", tags=["bedrock"], route_class=BedrockRoute)

DEFAULT_REGION = "us-east-1"
# SigV4: "Credential=<key id>/<date>/<region>/<service>/aws4_request"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/")


class ModelLifecycle(Wire):
    status: Literal["ACTIVE", "LEGACY"] = "ACTIVE"


class FoundationModelSummary(Wire):
    model_arn: str
    model_id: str
    model_name: str
    provider_name: str
    input_modalities: list[str] = ["TEXT"]
    output_modalities: list[str] = ["TEXT"]
    response_streaming_supported: bool = True
    customizations_supported: list[str] = []
    inference_types_supported: list[str] = ["ON_DEMAND"]
    model_lifecycle: ModelLifecycle = ModelLifecycle()


class ListFoundationModelsResponse(Wire):
    model_summaries: list[FoundationModelSummary]


class GetFoundationModelResponse(Wire):
    model_details: FoundationModelSummary


def summary(model_id: str, region: str) -> FoundationModelSummary:
    vendor, dot, name = model_id.partition(".")
    return FoundationModelSummary(
        model_arn=f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        model_id=model_id,
        model_name=name if dot else model_id,
        provider_name=vendor.capitalize() if dot else "Simulator",
    )


def signed_region(request: Request) -> str:
    match = _CREDENTIAL_SCOPE.search(request.headers.get("authorization", ""))
    return match.group(1) if match else DEFAULT_REGION


def _matches(values: list[str], wanted: str | None) -> bool:
    return wanted is None or wanted in values


@router.get("", summary="Bedrock ListFoundationModels: the configured models but unavailable ones")
async def list_foundation_models(
    request: Request,
    settings: Settings,
    conditions: Conditions,
    by_provider: Annotated[str | None, Query(alias="byProvider")] = None,
    by_output_modality: Annotated[str | None, Query(alias="byOutputModality")] = None,
    by_inference_type: Annotated[str | None, Query(alias="byInferenceType")] = None,
    by_customization_type: Annotated[str | None, Query(alias="byCustomizationType")] = None,
) -> ListFoundationModelsResponse:
    region = signed_region(request)
    listed = [summary(m, region) for m in settings.models if conditions.is_listed(m)]
    return ListFoundationModelsResponse(
        model_summaries=[
            m
            for m in listed
            if (by_provider is None or m.provider_name.lower() == by_provider.lower())
            and _matches(m.output_modalities, by_output_modality)
            and _matches(m.inference_types_supported, by_inference_type)
            and _matches(m.customizations_supported, by_customization_type)
        ]
    )


@router.get(
    "/{model_identifier:path}",
    summary="Bedrock GetFoundationModel: one listed model",
    responses={404: {"description": "ResourceNotFoundException"}},
)
async def get_foundation_model(
    request: Request,
    settings: Settings,
    conditions: Conditions,
    model_identifier: str = Path(description="A model id, URL-encoded"),
) -> GetFoundationModelResponse:
    if model_identifier not in settings.models or not conditions.is_listed(model_identifier):
        raise BedrockError(
            "ResourceNotFoundException", 404, f"Model {model_identifier} was not found."
        )
    return GetFoundationModelResponse(
        model_details=summary(model_identifier, signed_region(request))
    )
