from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from chat.catalog.recommend import recommend
from chat.dependencies import Catalog, ModelHealth
from chat.model_health.status import Status
from chat.schemas import CamelModel
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import error_responses

router = APIRouter(prefix="/api/models", tags=["models"])


class ModelOut(CamelModel):
    id: str
    name: str
    provider: str
    tier: str
    strengths: list[str]
    status: Status = Field(description="From the periodic provider probe (/api/models/health)")


class ModelList(CamelModel):
    models: list[ModelOut]


class RecommendRequest(CamelModel):
    task: str = Field(min_length=1, max_length=2000, examples=["summarize a long report"])
    priority: Literal["quality", "speed", "cost"] = "quality"


class Recommendation(CamelModel):
    recommended_model: str
    reason: str


@router.get(
    "",
    summary="The models the caller's role (and plan) may use",
    description="Narrowed by the caller's plan's model groups and by a key's models; 503 "
    "provisioning_unavailable while the caller's plan cannot be known.",
    responses=error_responses(401, 503),
)
async def list_models(
    principal: CurrentPrincipal, catalog: Catalog, health: ModelHealth
) -> ModelList:
    return ModelList(
        models=[
            ModelOut(
                id=m.id,
                name=m.display_name,
                provider=m.provider,
                tier=m.tier,
                strengths=list(m.strengths),
                status=health.status_of(m.id),
            )
            for m in catalog.for_principal(principal)
        ]
    )


@router.post(
    "/recommend",
    summary="Suggest a model for a task and a priority (quality, speed or cost)",
    description="Among the caller's models the probe has not found unavailable.",
    responses=error_responses(401, 422, 503),
)
async def recommend_model(
    body: RecommendRequest, principal: CurrentPrincipal, catalog: Catalog, health: ModelHealth
) -> Recommendation:
    usable = catalog.for_principal(principal)
    answering = [m for m in usable if health.status_of(m.id) != "unavailable"]
    model, reason = recommend(answering or usable, body.task, body.priority)
    return Recommendation(recommended_model=model.id, reason=reason)
