from fastapi import APIRouter

from chat.dependencies import Catalog, ModelHealth
from chat.model_health.schemas import ModelHealthList, SyncResult, health_out, sync_result
from jwt_contract.dependencies import CurrentPrincipal, RequireAdmin
from service_kit import error_responses

router = APIRouter(prefix="/api/models", tags=["models"])


@router.get(
    "/health",
    summary="Each model's status from the periodic provider probe (the caller's models)",
    description="available, degraded (answered the probe slower than "
    "MODEL_DEGRADED_LATENCY_MS, or throttled it) or unavailable (the probe call failed or "
    "timed out: requests for it answer 503 model_unavailable at once), with the last check. "
    "Probed every MODEL_PROBE_INTERVAL_SECONDS.",
    responses=error_responses(401, 503),
)
async def model_health(
    principal: CurrentPrincipal, catalog: Catalog, health: ModelHealth
) -> ModelHealthList:
    view = health.view
    return ModelHealthList(
        models=[health_out(m, health.check_of(m.id)) for m in catalog.for_principal(principal)],
        checked_at=view.checked_at if view else None,
        probe_interval_seconds=health.interval,
    )


@router.post(
    "/sync",
    summary="Re-read the providers' model lists and probe every model now (admin)",
    description="Reads Bedrock's ListFoundationModels and the OpenAI-compatible server's "
    "GET /models, makes the probe's one-token call to every model of the catalog and shares "
    "the result with every replica. `notInCatalog` names what a provider offers that MODELS "
    "does not (the catalog itself comes from configuration).",
    responses=error_responses(401, 403, 503),
)
async def sync_models(_: RequireAdmin, catalog: Catalog, health: ModelHealth) -> SyncResult:
    return sync_result(await health.sync(), catalog.all())
