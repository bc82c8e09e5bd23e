"""Plans: a monthly credit grant, a request limit and model groups. Editing a plan adds a
version with an effective date; versions are never changed or deleted."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import SYSTEM, Actor, record
from provisioning.credits import from_micro, to_micro
from provisioning.database import Connection
from provisioning.idempotent import Once
from provisioning.model_groups import repository as model_groups
from provisioning.model_groups.service import resolve_groups
from provisioning.plans import repository
from provisioning.plans.repository import Plan, PlanVersion
from provisioning.plans.schemas import (
    CurrentPlan,
    PlanCreate,
    PlanHistory,
    PlanList,
    PlanOffer,
    PlanOffers,
    PlanOut,
    PlanTerms,
    PlanVersionCreate,
    PlanVersionOut,
)
from service_kit import ApiError

log = logging.getLogger(__name__)

# An effective date a little in the past is "now" from a client with a slow clock.
_CLOCK_SKEW = timedelta(minutes=1)


def unknown_plan() -> ApiError:
    return ApiError(404, "not_found", "Unknown plan")


def plan_name_taken(name: str) -> ApiError:
    return ApiError(409, "name_taken", f"A plan is already called {name}")


@dataclass
class PlansService:
    pool: asyncpg.Pool

    async def create(
        self, admin: Principal, request: PlanCreate, once: Once | None = None
    ) -> PlanOut | StoredResponse:
        """The plan created, or the response an ``Idempotency-Key`` already used with this body
        got (and nothing is created): the key is claimed and its response kept in the
        transaction that creates the plan."""
        name = request.name.strip()
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            effective_from = _effective_from(request)
            groups = await resolve_groups(conn, request.model_groups)
            try:
                plan = await repository.insert_plan(
                    conn, name=name, is_default=request.is_default, by=admin.user_id
                )
            except asyncpg.UniqueViolationError:
                raise plan_name_taken(name) from None
            await _add_version(conn, plan.id, request, groups.names, effective_from, admin.user_id)
            created = await _plan_out(conn, plan)
            await record(
                conn,
                Actor.of(admin),
                "plan.created",
                target_type="plan",
                target_id=plan.id,
                after=created,
            )
            if once is not None:
                await once.record(conn, created)
        return created

    async def add_version(
        self,
        admin: Principal,
        plan_id: UUID,
        request: PlanVersionCreate,
        once: Once | None = None,
    ) -> PlanOut | StoredResponse:
        """The plan with its new version, or the response an ``Idempotency-Key`` already used
        with this body got (and no version is added), as :meth:`create`."""
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            plan = await repository.locked(conn, plan_id)
            if plan is None:
                raise unknown_plan()
            effective_from = _effective_from(request)
            groups = await resolve_groups(conn, request.model_groups)
            before = await _plan_out(conn, plan)
            if request.name is not None and request.name.strip() != plan.name:
                try:
                    async with conn.transaction():
                        plan = await repository.rename(conn, plan_id, request.name.strip())
                except asyncpg.UniqueViolationError:
                    raise plan_name_taken(request.name.strip()) from None
            version = await _add_version(
                conn, plan_id, request, groups.names, effective_from, admin.user_id
            )
            after = await _plan_out(conn, plan)
            await record(
                conn,
                Actor.of(admin),
                "plan.version_created",
                target_type="plan",
                target_id=plan_id,
                before=before,
                after={"plan": after.model_dump(mode="json", by_alias=True), "version": version},
            )
            if once is not None:
                await once.record(conn, after)
        return after

    async def list(self) -> PlanList:
        async with self.pool.acquire() as conn:
            return PlanList(plans=[await _plan_out(conn, p) for p in await repository.every(conn)])

    async def offers(self) -> PlanOffers:
        """Every plan with terms in force, as users see it."""
        async with self.pool.acquire() as conn:
            offers = [await _offer(conn, plan) for plan in await repository.every(conn)]
        return PlanOffers(plans=[offer for offer in offers if offer is not None])

    async def current(self, user_id: str) -> CurrentPlan:
        async with self.pool.acquire() as conn:
            assigned = await repository.assignment(conn, user_id)
            if assigned is None:
                return CurrentPlan(plan=None, assigned_at=None)
            plan = await repository.by_id(conn, assigned.plan_id)
            offer = None if plan is None else await _offer(conn, plan)
        return CurrentPlan(plan=offer, assigned_at=assigned.assigned_at)

    async def history(self, plan_id: UUID) -> PlanHistory:
        async with self.pool.acquire() as conn:
            plan = await repository.by_id(conn, plan_id)
            if plan is None:
                raise unknown_plan()
            versions = await repository.versions(conn, [plan_id])
        return PlanHistory(
            plan_id=plan_id, name=plan.name, versions=[_version_out(v) for v in versions]
        )

    async def ensure_default(
        self, name: str, monthly_credits: Decimal, requests_per_minute: int
    ) -> None:
        """At start-up: make sure new users have a plan to get (the configured one)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('provisioning.default-plan'))"
            )
            if await repository.default_plan(conn) is not None:
                return
            existing = await repository.by_name(conn, name)
            if existing is not None:
                await repository.make_default(conn, existing.id)
                log.info("default plan chosen", extra={"plan": name})
                return
            terms = PlanCreate(
                name=name,
                monthly_credits=monthly_credits,
                requests_per_minute=requests_per_minute,
                is_default=True,
            )
            plan = await repository.insert_plan(conn, name=name, is_default=True, by=SYSTEM.id)
            await _add_version(conn, plan.id, terms, [], datetime.now(UTC), SYSTEM.id)
            await record(
                conn,
                SYSTEM,
                "plan.created",
                target_type="plan",
                target_id=plan.id,
                after=await _plan_out(conn, plan),
            )
            log.info(
                "default plan created", extra={"plan": name, "monthlyCredits": str(monthly_credits)}
            )


def _effective_from(terms: PlanTerms) -> datetime:
    now = datetime.now(UTC)
    if terms.effective_from is None:
        return now
    if terms.effective_from < now - _CLOCK_SKEW:
        raise ApiError(400, "invalid_effective_date", "effectiveFrom cannot be in the past")
    return max(terms.effective_from, now)


async def _add_version(
    conn: Connection,
    plan_id: UUID,
    terms: PlanTerms,
    groups: list[str],
    effective_from: datetime,
    by: str,
) -> dict[str, Any]:
    """The new version, as the audit log records it."""
    version = await repository.insert_version(
        conn,
        plan_id,
        monthly_micro=to_micro(terms.monthly_credits),
        requests_per_minute=terms.requests_per_minute,
        model_groups=groups,
        effective_from=effective_from,
        by=by,
    )
    return _version_out(version).model_dump(mode="json", by_alias=True)


async def _plan_out(conn: Connection, plan: Plan) -> PlanOut:
    now = datetime.now(UTC)
    versions = [_version_out(v) for v in await repository.versions(conn, [plan.id])]
    in_force = [v for v in versions if v.effective_from <= now]
    current = max(in_force, key=lambda v: (v.effective_from, v.version), default=None)
    return PlanOut(
        id=plan.id,
        name=plan.name,
        is_default=plan.is_default,
        current=current,
        scheduled=[v for v in versions if v.effective_from > now],
        created_at=plan.created_at,
    )


async def _offer(conn: Connection, plan: Plan) -> PlanOffer | None:
    """The plan's terms in force; None while it has none yet (all its versions are later)."""
    version = await repository.version_in_force(conn, plan.id)
    if version is None:
        return None
    models = None
    if version.model_groups:
        groups = await model_groups.by_names(conn, version.model_groups)
        models = sorted({model for group in groups for model in group.models})
    return PlanOffer(
        id=plan.id,
        name=plan.name,
        is_default=plan.is_default,
        monthly_credits=from_micro(version.monthly_micro),
        requests_per_minute=version.requests_per_minute,
        models=models,
    )


def _version_out(version: PlanVersion) -> PlanVersionOut:
    return PlanVersionOut(
        version=version.version,
        monthly_credits=from_micro(version.monthly_micro),
        requests_per_minute=version.requests_per_minute,
        model_groups=list(version.model_groups),
        effective_from=version.effective_from,
        created_by=version.created_by,
        created_at=version.created_at,
    )
