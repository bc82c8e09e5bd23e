from uuid import UUID

from fastapi import APIRouter, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.invitations.dependencies import Invitations
from provisioning.invitations.schemas import (
    InvitationCreate,
    InvitationList,
    InvitationOut,
    ReceivedInvitationList,
)
from provisioning.memberships.schemas import MemberOut
from service_kit import error_responses

router = APIRouter(tags=["invitations"])

_ORG = "/api/organizations/{org_id}/invitations"
_MINE = "/api/invitations"


@router.post(
    _ORG,
    status_code=status.HTTP_201_CREATED,
    summary="Invite an email address with a role (owners and admins; owners invite owners)",
    description="Nobody is looked up: the answer is the same whether or not the address has "
    "an account. The invitee sees it at `GET /api/invitations` and becomes a member only by "
    "accepting it, before `expiresAt` (`INVITATION_TTL_DAYS`, default 7). An address with an "
    f"open invitation to the organization → 409 `already_invited`. {REPLAY_DESCRIPTION}",
    response_model=InvitationOut,
    responses=idempotent_responses(201, 401, 403, 404, 409),
)
async def invite(
    org_id: UUID,
    body: InvitationCreate,
    principal: CurrentPrincipal,
    invitations: Invitations,
    idempotent: IdempotencyKey,
) -> InvitationOut | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await invitations.create(principal, org_id, body, once), once)


@router.get(
    _ORG,
    summary="The organization's open invitations (owners and admins)",
    responses=error_responses(401, 403, 404),
)
async def list_invitations(
    org_id: UUID, principal: CurrentPrincipal, invitations: Invitations
) -> InvitationList:
    return await invitations.list_of_org(principal, org_id)


@router.delete(
    _ORG + "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an open invitation (owners and admins; an owner's invitation, owners)",
    responses=error_responses(401, 403, 404),
)
async def revoke_invitation(
    org_id: UUID, invitation_id: UUID, principal: CurrentPrincipal, invitations: Invitations
) -> None:
    await invitations.revoke(principal, org_id, invitation_id)


@router.get(
    _MINE,
    summary="The caller's open invitations, matched by the email of their token",
    responses=error_responses(401),
)
async def my_invitations(
    principal: CurrentPrincipal, invitations: Invitations
) -> ReceivedInvitationList:
    return await invitations.received(principal)


@router.post(
    _MINE + "/{invitation_id}/accept",
    response_model_exclude_none=True,
    summary="Accept an invitation: the membership starts now",
    description="Answers the membership. Idempotent: accepting again (or twice at once) "
    "answers the same membership and adds nothing. Someone else's, a revoked or declined "
    "invitation, or one of a deleted organization → 404; an expired one → 410. A caller "
    "who is already a member keeps their role.",
    responses=error_responses(401, 404, 410),
)
async def accept_invitation(
    invitation_id: UUID, principal: CurrentPrincipal, invitations: Invitations
) -> MemberOut:
    return await invitations.accept(principal, invitation_id)


@router.post(
    _MINE + "/{invitation_id}/decline",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Decline an invitation (idempotent)",
    responses=error_responses(401, 404, 410),
)
async def decline_invitation(
    invitation_id: UUID, principal: CurrentPrincipal, invitations: Invitations
) -> None:
    await invitations.decline(principal, invitation_id)
