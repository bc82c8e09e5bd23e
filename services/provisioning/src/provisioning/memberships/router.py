from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Memberships
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.invitations import router as invitations
from provisioning.memberships.schemas import MemberAdd, MemberList, MemberOut
from service_kit import error_responses

members = APIRouter(prefix="/api/organizations/{org_id}/members", tags=["organizations"])


@members.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut,
    response_model_exclude_none=True,
    summary="Add a user directly by username or email (platform admins only)",
    description="Everyone else joins by invitation: owners and admins use "
    "`POST /api/organizations/{id}/invitations` (this route answers them 403). "
    f"{REPLAY_DESCRIPTION}",
    responses=idempotent_responses(201, 401, 403, 404, 409),
)
async def add_member(
    org_id: UUID,
    body: MemberAdd,
    principal: CurrentPrincipal,
    memberships: Memberships,
    idempotent: IdempotencyKey,
) -> MemberOut | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED, exclude_none=True)
    return answer(await memberships.add(principal, org_id, body, once), once)


@members.get(
    "",
    response_model_exclude_none=True,
    summary="The organization's members (owners and admins)",
    description="Members are shown by username; `email` only to platform admins and on the "
    "caller's own entry.",
    responses=error_responses(401, 403, 404),
)
async def list_members(
    org_id: UUID, principal: CurrentPrincipal, memberships: Memberships
) -> MemberList:
    return await memberships.list(principal, org_id)


@members.delete(
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


# Members join by invitation, so invitations' routes are served with the members' ones.
router = APIRouter()
router.include_router(members)
router.include_router(invitations.router)
