"""``/internal`` routes: outside every gateway prefix; each needs a service token with its
scope (an end user's token is 403 ``service_only``)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import ORGANIZATIONS_READ
from provisioning.dependencies import Pool
from provisioning.internal.schemas import OrganizationAccess
from provisioning.internal.service import organization_access
from service_kit import Text, error_responses

router = APIRouter(
    prefix="/internal",
    tags=["organizations (internal)"],
    responses=error_responses(401, 403, 422),
)


@router.get(
    "/organizations/{org_id}/access",
    summary="A user's role in an organization and the organization's team accounts "
    "(organizations:read)",
    description="For accounting's usage export by organization: the caller checks the role "
    "(`owner`, `admin`, `member`, or null for a non-member) and reads the teams' accounts. "
    "An unknown or deleted organization is 404.",
    dependencies=[Depends(require_scope(ORGANIZATIONS_READ))],
    responses=error_responses(404),
)
async def access(
    org_id: UUID,
    pool: Pool,
    user_id: Annotated[Text, Query(alias="userId", min_length=1, max_length=254)],
) -> OrganizationAccess:
    return await organization_access(pool, org_id, user_id)
