from uuid import UUID

from fastapi import APIRouter, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Organizations
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.organizations.schemas import (
    DryRunResult,
    OrganizationCreate,
    OrganizationList,
    OrganizationOut,
    OrganizationUpdate,
)
from service_kit import error_responses

router = APIRouter(prefix="/api/organizations", tags=["organizations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization; the caller becomes its owner",
    description="With `dryRun: true` nothing is created: the answer is 200 with whether the "
    f"slug and name would be accepted, and why not (a dry run does not use the key). "
    f"{REPLAY_DESCRIPTION}",
    response_model=OrganizationOut | DryRunResult,
    responses={
        200: {"model": DryRunResult, "description": "The validation result of a dry run"},
        **idempotent_responses(201, 401, 409),
    },
)
async def create(
    body: OrganizationCreate,
    principal: CurrentPrincipal,
    response: Response,
    organizations: Organizations,
    idempotent: IdempotencyKey,
) -> OrganizationOut | DryRunResult | Response:
    if body.dry_run:
        response.status_code = status.HTTP_200_OK
        return await organizations.dry_run(body)
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await organizations.create(principal, body, once), once)


@router.get(
    "",
    summary="The organizations the caller belongs to (admins: all)",
    responses=error_responses(401),
)
async def list_organizations(
    principal: CurrentPrincipal, organizations: Organizations
) -> OrganizationList:
    return await organizations.list_for(principal)


@router.get("/{org_id}", summary="One organization (members)", responses=error_responses(401, 404))
async def get_organization(
    org_id: UUID, principal: CurrentPrincipal, organizations: Organizations
) -> OrganizationOut:
    return await organizations.get(principal, org_id)


@router.patch(
    "/{org_id}",
    summary="Rename an organization (owners and admins)",
    responses=error_responses(401, 403, 404, 422),
)
async def update_organization(
    org_id: UUID,
    body: OrganizationUpdate,
    principal: CurrentPrincipal,
    organizations: Organizations,
) -> OrganizationOut:
    return await organizations.update(principal, org_id, body)


@router.delete(
    "/{org_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Soft-delete an organization (owners and admins); its slug is never reused",
    responses=error_responses(401, 403, 404),
)
async def delete_organization(
    org_id: UUID, principal: CurrentPrincipal, organizations: Organizations
) -> None:
    await organizations.delete(principal, org_id)
