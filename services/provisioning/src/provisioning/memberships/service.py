"""Adding and removing an organization's members. Users join by invitation (see
``provisioning.invitations``); only a platform admin adds a member directly. Owners and admins
list and remove members; only an owner may make or remove another owner, and the last owner
cannot leave. Members are shown by username: an email only to platform admins and the member."""

from dataclasses import asdict, dataclass
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.auth import AuthClient
from provisioning.idempotent import Once
from provisioning.memberships import repository
from provisioning.memberships.access import org_access
from provisioning.memberships.repository import Member
from provisioning.memberships.schemas import MemberAdd, MemberList, MemberOut
from service_kit import ApiError


def owners_only() -> ApiError:
    return ApiError(403, "forbidden", "Only an owner can add or remove an owner")


def member_out(member: Member) -> MemberOut:
    return MemberOut.model_validate(asdict(member))


def member_view(member: Member, viewer: Principal) -> MemberOut:
    """A membership as ``viewer`` may see it: the email only for a platform admin or the
    member themself (others see the username)."""
    shown = member_out(member)
    if viewer.has_role("admin") or viewer.user_id == member.user_id:
        return shown
    return shown.model_copy(update={"email": None})


@dataclass
class MembershipsService:
    pool: asyncpg.Pool
    auth: AuthClient

    async def add(
        self, principal: Principal, org_id: UUID, request: MemberAdd, once: Once | None = None
    ) -> MemberOut | StoredResponse:
        # Before the organization is looked up: the refusal says nothing about whether it exists.
        if not principal.has_role("admin"):
            raise ApiError(
                403,
                "forbidden",
                "Only a platform admin adds members directly; invite them with "
                "POST /api/organizations/{id}/invitations",
            )
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
        user = await self.auth.find_user(request.login)
        if user is None:
            raise ApiError(404, "user_not_found", f"No user is called {request.login}")
        async with self.pool.acquire() as conn, conn.transaction():
            await org_access(conn, org_id, principal, manage=True)  # not deleted meanwhile
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            added = await repository.insert(
                conn,
                org_id=org_id,
                user_id=user.id,
                username=user.username,
                email=user.email,
                role=request.role,
                added_by=principal.user_id,
            )
            if added is None:
                raise ApiError(409, "already_member", f"{user.username} is already a member")
            member = member_out(added)
            await record(
                conn,
                Actor.of(principal),
                "membership.added",
                target_type="membership",
                target_id=f"{org_id}:{user.id}",
                organization_id=org_id,
                after=member,
            )
            if once is not None:
                await once.record(conn, member)
        return member

    async def list(self, principal: Principal, org_id: UUID) -> MemberList:
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
            members = await repository.of_org(conn, org_id)
        return MemberList(members=[member_view(member, principal) for member in members])

    async def remove(self, principal: Principal, org_id: UUID, user_id: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            owners = await repository.owners_locked(conn, org_id)
            member = await repository.one(conn, org_id, user_id)
            if member is None:
                raise ApiError(404, "not_found", "Not a member of this organization")
            if member.role == "owner":
                if not access.is_owner:
                    raise owners_only()
                if owners == 1:
                    raise ApiError(
                        409, "last_owner", "The last owner cannot be removed; add another first"
                    )
            await repository.delete(conn, org_id, user_id)
            await record(
                conn,
                Actor.of(principal),
                "membership.removed",
                target_type="membership",
                target_id=f"{org_id}:{user_id}",
                organization_id=org_id,
                before=member_out(member),
            )
