"""Creating, reading, renaming and soft-deleting organizations."""

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from bus_events import OrganizationDeleted, event_of
from event_bus import OutboxRelay, enqueue
from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.idempotent import Once
from provisioning.memberships import repository as memberships
from provisioning.memberships.access import org_access
from provisioning.memberships.schemas import OrgRole
from provisioning.organizations import repository
from provisioning.organizations.repository import Organization
from provisioning.organizations.schemas import (
    DryRunResult,
    OrganizationCreate,
    OrganizationList,
    OrganizationOut,
    OrganizationUpdate,
    Problem,
)
from provisioning.organizations.slugs import slug_problem
from service_kit import ApiError


def slug_taken(slug: str) -> ApiError:
    return ApiError(409, "slug_taken", f"The slug '{slug}' is taken")


@dataclass
class OrganizationsService:
    pool: asyncpg.Pool
    relay: OutboxRelay | None = None  # publishes organization.deleted

    async def dry_run(self, request: OrganizationCreate) -> DryRunResult:
        slug = request.slug.strip()
        problems: list[Problem] = []
        if reason := slug_problem(slug):
            problems.append(Problem(field="slug", code="invalid_slug", message=reason))
        else:
            async with self.pool.acquire() as conn:
                if await repository.slug_taken(conn, slug):
                    problems.append(
                        Problem(field="slug", code="slug_taken", message=slug_taken(slug).message)
                    )
        if not request.name.strip():
            problems.append(Problem(field="name", code="invalid_name", message="A name is needed"))
        return DryRunResult(valid=not problems, slug=slug, name=request.name, problems=problems)

    async def create(
        self, principal: Principal, request: OrganizationCreate, once: Once | None = None
    ) -> OrganizationOut | StoredResponse:
        """The organization made, or the response a key already used with this body got."""
        slug, name = request.slug.strip(), request.name.strip()
        if reason := slug_problem(slug):
            raise ApiError(422, "validation_error", reason, details={"field": "slug"})
        if not name:
            raise ApiError(422, "validation_error", "A name is needed", details={"field": "name"})
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            try:
                org = await repository.insert(
                    conn, slug=slug, name=name, owner_id=principal.user_id
                )
            except asyncpg.UniqueViolationError:
                raise slug_taken(slug) from None
            await memberships.insert(
                conn,
                org_id=org.id,
                user_id=principal.user_id,
                username=principal.username,
                email=principal.email,
                role="owner",
                added_by=principal.user_id,
            )
            created = _out(org, "owner")
            await record(
                conn,
                Actor.of(principal),
                "organization.created",
                target_type="organization",
                target_id=org.id,
                organization_id=org.id,
                after=created,
            )
            if once is not None:
                await once.record(conn, created)
        return created

    async def list_for(self, principal: Principal) -> OrganizationList:
        async with self.pool.acquire() as conn:
            if principal.has_role("admin"):
                listed = await repository.every_live(conn, principal.user_id)
            else:
                listed = await repository.for_member(conn, principal.user_id)
        return OrganizationList(
            organizations=[_out(item.organization, item.role) for item in listed]
        )

    async def get(self, principal: Principal, org_id: UUID) -> OrganizationOut:
        async with self.pool.acquire() as conn:
            access = await org_access(conn, org_id, principal, manage=False)
        return _out(access.org, access.role)

    async def update(
        self, principal: Principal, org_id: UUID, request: OrganizationUpdate
    ) -> OrganizationOut:
        name = request.name.strip()
        if not name:
            raise ApiError(422, "validation_error", "A name is needed", details={"field": "name"})
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            before = _out(access.org, access.role)
            after = _out(await repository.rename(conn, org_id, name), access.role)
            await record(
                conn,
                Actor.of(principal),
                "organization.updated",
                target_type="organization",
                target_id=org_id,
                organization_id=org_id,
                before=before,
                after=after,
            )
        return after

    async def delete(self, principal: Principal, org_id: UUID) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            access = await org_access(conn, org_id, principal, manage=True)
            await repository.soft_delete(conn, org_id)
            # Auth revokes its team keys; every service refuses their tokens at once.
            await enqueue(conn, event_of(OrganizationDeleted(organization_id=str(org_id))))
            await record(
                conn,
                Actor.of(principal),
                "organization.deleted",
                target_type="organization",
                target_id=org_id,
                organization_id=org_id,
                before=_out(access.org, access.role),
            )
        if self.relay is not None:
            self.relay.wake()


def _out(org: Organization, role: OrgRole | None) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,
        slug=org.slug,
        name=org.name,
        owner_id=org.owner_id,
        created_at=org.created_at,
        updated_at=org.updated_at,
        role=role,
    )
