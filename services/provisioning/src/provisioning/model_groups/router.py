from fastapi import APIRouter, status

from jwt_contract.dependencies import BearerToken, CurrentPrincipal, RequireAdmin
from provisioning.dependencies import ModelGroups
from provisioning.model_groups.schemas import ModelGroupCreate, ModelGroupList, ModelGroupOut
from service_kit import error_responses

router = APIRouter(prefix="/api/model-groups", tags=["model groups"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Name a set of catalog models (admin); an id not in the catalog is refused",
    responses=error_responses(400, 401, 403, 409, 422, 503),
)
async def create_model_group(
    body: ModelGroupCreate, admin: RequireAdmin, token: BearerToken, groups: ModelGroups
) -> ModelGroupOut:
    return await groups.create(admin, body, token)


@router.get("", summary="Every model group", responses=error_responses(401))
async def list_model_groups(_: CurrentPrincipal, groups: ModelGroups) -> ModelGroupList:
    return await groups.list()
