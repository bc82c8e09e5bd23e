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

from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.invitations import repository
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
        self, principal: Principal, org_id: UUID, request: InvitationCreate
    ) -> InvitationOut:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            if request.role == "owner" and not access.is_owner:
                raise owners_only()
            await repository.close_expired(conn, org_id, request.email)
            row = await repository.insert(
                conn,
                org_id=org_id,
                email=request.email,
                role=request.role,
                invited_by=principal.user_id,
                invited_by_name=principal.username,
                ttl=self.ttl,
            )
            if row is None:
                raise ApiError(
                    409,
                    "already_invited",
                    f"{request.email} already has an open invitation to this organization; "
                    "revoke it to invite again",
                )
            invitation = _out(row)
            await record(
                conn,
                Actor.of(principal),
                "invitation.created",
                target_type="invitation",
                target_id=invitation.id,
                organization_id=org_id,
                after=invitation,
            )
        return invitation

    async def list_of_org(self, principal: Principal, org_id: UUID) -> InvitationList:
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
            rows = await repository.open_of_org(conn, org_id)
        return InvitationList(invitations=[_out(row) for row in rows])

    async def revoke(self, principal: Principal, org_id: UUID, invitation_id: UUID) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            row = await repository.open_of_org_locked(conn, org_id, invitation_id)
            if row is None:
                raise unknown_invitation()
            if row["role"] == "owner" and not access.is_owner:
                raise owners_only()
            await repository.close(conn, invitation_id, status="revoked", by=principal.user_id)
            await record(
                conn,
                Actor.of(principal),
                "invitation.revoked",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=org_id,
                before=_out(row),
            )

    async def received(self, principal: Principal) -> ReceivedInvitationList:
        async with self.pool.acquire() as conn:
            rows = await repository.open_for_address(conn, principal.email)
        return ReceivedInvitationList(invitations=[_received(row) for row in rows])

    async def accept(self, principal: Principal, invitation_id: UUID) -> MemberOut:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await repository.for_address_locked(conn, invitation_id, principal.email)
            if _accepted_by(row, principal):
                # A repeat, or the loser of two concurrent accepts: the same membership.
                member = await memberships.one(conn, row["organization_id"], principal.user_id)
                if member is None:  # accepted, then removed: the invitation is spent
                    raise unknown_invitation()
                return MemberOut.model_validate(dict(member))
            _must_be_open(row)
            org_id = row["organization_id"]
            invitee = {
                "id": principal.user_id,
                "username": principal.username,
                "email": principal.email,
            }
            added = await memberships.insert(
                conn, org_id=org_id, user=invitee, role=row["role"], added_by=row["invited_by"]
            )
            # Someone already a member keeps their role: an invitation neither demotes nor promotes.
            member_row = added or await memberships.one(conn, org_id, principal.user_id)
            member = MemberOut.model_validate(dict(member_row))
            await repository.close(conn, invitation_id, status="accepted", by=principal.user_id)
            actor = Actor.of(principal)
            await record(
                conn,
                actor,
                "invitation.accepted",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=org_id,
                before=_out(row),
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
            row = await repository.for_address_locked(conn, invitation_id, principal.email)
            if row is not None and row["status"] == "declined":
                return  # a repeat changes nothing
            _must_be_open(row)
            await repository.close(conn, invitation_id, status="declined", by=principal.user_id)
            await record(
                conn,
                Actor.of(principal),
                "invitation.declined",
                target_type="invitation",
                target_id=invitation_id,
                organization_id=row["organization_id"],
                before=_out(row),
            )


def _accepted_by(row: asyncpg.Record | None, principal: Principal) -> bool:
    return (
        row is not None and row["status"] == "accepted" and row["responded_by"] == principal.user_id
    )


def _must_be_open(row: asyncpg.Record | None) -> None:
    """404 unless the invitation is still pending; 410 once it has expired."""
    if row is None or row["status"] not in ("pending", "expired"):
        raise unknown_invitation()
    if row["status"] == "expired" or row["expired"]:
        raise ApiError(410, "invitation_expired", "This invitation has expired; ask for a new one")


def _out(row: asyncpg.Record) -> InvitationOut:
    return InvitationOut.model_validate({name: row[name] for name in InvitationOut.model_fields})


def _received(row: asyncpg.Record) -> ReceivedInvitation:
    fields = ReceivedInvitation.model_fields
    return ReceivedInvitation.model_validate({name: row[name] for name in fields})
