"""Inviting users into an organization, and the invitee's answer.

An organization's owners and admins invite an email address with a role (only owners invite
owners, as only owners make owners); nobody is looked up, so the answer is the same whether
or not anyone has that address. The invitee finds the invitation by the email of their own
verified token (compared case-insensitively) and the membership starts only when they accept.
Someone else's invitation, a revoked or declined one, and one of a deleted organization are
404 to them; an expired one is 410. Accepting is idempotent: a repeat (or a concurrent second
accept) answers the same membership and adds nothing. Every change is audited in its own
transaction.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.idempotent import Once
from provisioning.invitations import repository
from provisioning.invitations.repository import Invitation, InvitationToOrganization
from provisioning.invitations.schemas import (
    InvitationCreate,
    InvitationList,
    InvitationOut,
    ReceivedInvitation,
    ReceivedInvitationList,
)
from provisioning.memberships import repository as memberships
from provisioning.memberships.access import org_access
from provisioning.memberships.schemas import MemberOut
from provisioning.memberships.service import member_out
from service_kit import ApiError


def unknown_invitation() -> ApiError:
    return ApiError(404, "not_found", "No such invitation")


def owners_only() -> ApiError:
    return ApiError(403, "forbidden", "Only an owner can invite an owner or revoke that invitation")


@dataclass(frozen=True)
class InvitationsService:
    pool: asyncpg.Pool
    ttl: timedelta

    async def create(
        self,
        principal: Principal,
        org_id: UUID,
        request: InvitationCreate,
        once: Once | None = None,
    ) -> InvitationOut | StoredResponse:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            if request.role == "owner" and not access.is_owner:
                raise owners_only()
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            await repository.close_expired(conn, org_id, request.email)
            created = await repository.insert(
                conn,
                org_id=org_id,
                email=request.email,
                role=request.role,
                invited_by=principal.user_id,
                invited_by_name=principal.username,
                ttl=self.ttl,
            )
            if created is None:
                raise ApiError(
                    409,
                    "already_invited",
                    f"{request.email} already has an open invitation to this organization; "
                    "revoke it to invite again",
                )
            invitation = _out(created)
            await record(
                conn,
                Actor.of(principal),
                "invitation.created",
                target_type="invitation",
                target_id=invitation.id,
                organization_id=org_id,
                after=invitation,
            )
            if once is not None:
                await once.record(conn, invitation)
        return invitation

    async def list_of_org(self, principal: Principal, org_id: UUID) -> InvitationList:
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
            invitations = await repository.open_of_org(conn, org_id)
        return InvitationList(invitations=[_out(invitation) for invitation in invitations])

    async def revoke(self, principal: Principal, org_id: UUID, invitation_id: UUID) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            invitation = await repository.open_of_org_locked(conn, org_id, invitation_id)
            if invitation is None:
                raise unknown_invitation()
            if invitation.role == "owner" and not access.is_owner:
                raise owners_only()
            await repository.close(conn, invitation_id, status="revoked", by=principal.user_id)
            await record(
                conn,
                Actor.of(principal),
                "invitation.revoked",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=org_id,
                before=_out(invitation),
            )

    async def received(self, principal: Principal) -> ReceivedInvitationList:
        async with self.pool.acquire() as conn:
            received = await repository.open_for_address(conn, principal.email)
        return ReceivedInvitationList(invitations=[_received(item) for item in received])

    async def accept(self, principal: Principal, invitation_id: UUID) -> MemberOut:
        async with self.pool.acquire() as conn, conn.transaction():
            invitation = await repository.for_address_locked(conn, invitation_id, principal.email)
            if invitation is not None and _accepted_by(invitation, principal):
                # A repeat, or the loser of two concurrent accepts: the same membership.
                org_id = invitation.organization_id
                existing = await memberships.one(conn, org_id, principal.user_id)
                if existing is None:  # accepted, then removed: the invitation is spent
                    raise unknown_invitation()
                return member_out(existing)
            invitation = _must_be_open(invitation)
            org_id = invitation.organization_id
            added = await memberships.insert(
                conn,
                org_id=org_id,
                user_id=principal.user_id,
                username=principal.username,
                email=principal.email,
                role=invitation.role,
                added_by=invitation.invited_by,
            )
            # Someone already a member keeps their role: an invitation neither demotes nor promotes.
            joined = added or await memberships.one(conn, org_id, principal.user_id)
            if joined is None:
                # The membership that blocked the insert was removed meanwhile (a race).
                raise RuntimeError("membership vanished while an invitation was accepted")
            member = member_out(joined)
            await repository.close(conn, invitation_id, status="accepted", by=principal.user_id)
            actor = Actor.of(principal)
            await record(
                conn,
                actor,
                "invitation.accepted",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=org_id,
                before=_out(invitation),
                after=member,
            )
            if added is not None:
                await record(
                    conn,
                    actor,
                    "membership.added",
                    target_type="membership",
                    target_id=f"{org_id}:{principal.user_id}",
                    organization_id=org_id,
                    after=member,
                )
        return member

    async def decline(self, principal: Principal, invitation_id: UUID) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            found = await repository.for_address_locked(conn, invitation_id, principal.email)
            if found is not None and found.status == "declined":
                return  # a repeat changes nothing
            invitation = _must_be_open(found)
            await repository.close(conn, invitation_id, status="declined", by=principal.user_id)
            await record(
                conn,
                Actor.of(principal),
                "invitation.declined",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=invitation.organization_id,
                before=_out(invitation),
            )


def _accepted_by(invitation: Invitation, principal: Principal) -> bool:
    return invitation.status == "accepted" and invitation.responded_by == principal.user_id


def _must_be_open(invitation: Invitation | None) -> Invitation:
    """The invitation while it is still pending; 404 otherwise, 410 once it has expired."""
    if invitation is None or invitation.status not in ("pending", "expired"):
        raise unknown_invitation()
    if invitation.status == "expired" or invitation.expired:
        raise ApiError(410, "invitation_expired", "This invitation has expired; ask for a new one")
    return invitation


def _out(invitation: Invitation) -> InvitationOut:
    fields = InvitationOut.model_fields
    return InvitationOut.model_validate({name: getattr(invitation, name) for name in fields})


def _received(received: InvitationToOrganization) -> ReceivedInvitation:
    return ReceivedInvitation.model_validate(
        {
            **_out(received.invitation).model_dump(),
            "organization_slug": received.organization_slug,
            "organization_name": received.organization_name,
        }
    )
