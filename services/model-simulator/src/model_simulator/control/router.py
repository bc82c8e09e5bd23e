"""``/sim/models``: set a model's condition (development and test only; not served in
production)."""

from fastapi import APIRouter, Path, status

from model_simulator.control.conditions import Condition
from model_simulator.dependencies import Conditions
from service_kit import CamelModel

ModelId = Path(description="The model id as clients send it (':' may be sent as %3A)")

router = APIRouter(prefix="/sim/models", tags=["simulator control (development and test only)"])


class ModelCondition(CamelModel):
    model_id: str
    available: bool
    extra_latency_ms: int


class ModelConditionList(CamelModel):
    models: list[ModelCondition]


def _out(model_id: str, condition: Condition) -> ModelCondition:
    return ModelCondition(
        model_id=model_id,
        available=condition.available,
        extra_latency_ms=condition.extra_latency_ms,
    )


@router.get("", summary="The models whose condition was set (every other one is normal)")
async def list_conditions(conditions: Conditions) -> ModelConditionList:
    return ModelConditionList(models=[_out(m, c) for m, c in conditions.all().items()])


@router.put("/{model_id:path}", summary="Set a model's condition: unavailable, or slow")
async def set_condition(
    body: Condition, conditions: Conditions, model_id: str = ModelId
) -> ModelCondition:
    conditions.set(model_id, body)
    return _out(model_id, conditions.of(model_id))


@router.delete(
    "/{model_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Serve a model normally again",
)
async def reset_condition(conditions: Conditions, model_id: str = ModelId) -> None:
    conditions.reset(model_id)


@router.delete(
    "", status_code=status.HTTP_204_NO_CONTENT, summary="Serve every model normally again"
)
async def reset_all(conditions: Conditions) -> None:
    conditions.reset()
