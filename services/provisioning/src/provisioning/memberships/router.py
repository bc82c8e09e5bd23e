from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, status

from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Memberships
from provisioning.memberships.schemas import MemberAdd, MemberList, MemberOut
from service_kit import error_responses

router = APIRouter(prefix="/api/organizations/{org_id}/members", tags=["organizations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a user by username or email (owners and admins; owners add owners)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def add_member(
    org_id: UUID, body: MemberAdd, principal: CurrentPrincipal, memberships: Memberships
) -> MemberOut:
    return await memberships.add(principal, org_id, body)


@router.get(
    "",
    summary="The organization's members (owners and admins)",
    responses=error_responses(401, 403, 404),
)
async def list_members(
    org_id: UUID, principal: CurrentPrincipal, memberships: Memberships
) -> MemberList:
    return await memberships.list(principal, org_id)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (owners and admins; the last owner stays)",
    responses=error_responses(401, 403, 404, 409),
)
async def remove_member(
    org_id: UUID,
    user_id: Annotated[str, Path(min_length=1, max_length=100)],
    principal: CurrentPrincipal,
    memberships: Memberships,
) -> None:
    await memberships.remove(principal, org_id, user_id)
