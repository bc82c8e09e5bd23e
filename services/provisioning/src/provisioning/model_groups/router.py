from fastapi import APIRouter, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import BearerToken, CurrentPrincipal, RequireAdmin
from provisioning.dependencies import ModelGroups
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.model_groups.schemas import ModelGroupCreate, ModelGroupList, ModelGroupOut
from service_kit import error_responses

router = APIRouter(prefix="/api/model-groups", tags=["model groups"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Name a set of catalog models (admin); an id not in the catalog is refused",
    description=REPLAY_DESCRIPTION,
    response_model=ModelGroupOut,
    responses=idempotent_responses(201, 400, 401, 403, 409, 503),
)
async def create_model_group(
    body: ModelGroupCreate,
    admin: RequireAdmin,
    token: BearerToken,
    groups: ModelGroups,
    idempotent: IdempotencyKey,
) -> ModelGroupOut | Response:
    once = Once.of(admin, idempotent, status.HTTP_201_CREATED)
    return answer(await groups.create(admin, body, token, once), once)


@router.get("", summary="Every model group", responses=error_responses(401))
async def list_model_groups(_: CurrentPrincipal, groups: ModelGroups) -> ModelGroupList:
    return await groups.list()
