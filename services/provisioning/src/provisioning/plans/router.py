from uuid import UUID

from fastapi import APIRouter, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal, RequireAdmin
from provisioning.dependencies import Plans
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.plans.schemas import (
    CurrentPlan,
    PlanCreate,
    PlanHistory,
    PlanList,
    PlanOffers,
    PlanOut,
    PlanVersionCreate,
)
from service_kit import error_responses

router = APIRouter(prefix="/api/plans", tags=["plans"])


@router.get(
    "",
    summary="The plans: every one with its versions for an admin, those on offer for others",
    description="An admin gets every plan with the version in force and those scheduled "
    "(`PlanList`). Anyone else gets the plans with terms in force as a user sees them: name, "
    "monthly credits, requests per minute and the models allowed (`PlanOffers`).",
    responses=error_responses(401),
)
async def list_plans(principal: CurrentPrincipal, plans: Plans) -> PlanList | PlanOffers:
    if principal.has_role("admin"):
        return await plans.list()
    return await plans.offers()


@router.get(
    "/current",
    summary="The caller's own plan",
    description="The plan the caller is on, with its terms in force; `plan` is null for a "
    "caller on none (a service or a team key's token, or a user not yet onboarded).",
    responses=error_responses(401),
)
async def current_plan(principal: CurrentPrincipal, plans: Plans) -> CurrentPlan:
    return await plans.current(principal.user_id)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a plan at version 1 (admin)",
    description=REPLAY_DESCRIPTION,
    response_model=PlanOut,
    responses=idempotent_responses(201, 400, 401, 403, 409),
)
async def create_plan(
    body: PlanCreate, admin: RequireAdmin, plans: Plans, idempotent: IdempotencyKey
) -> PlanOut | Response:
    once = Once.of(admin, idempotent, status.HTTP_201_CREATED)
    return answer(await plans.create(admin, body, once), once)


@router.post(
    "/{plan_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Edit a plan: new terms as a new version from effectiveFrom (admin)",
    description=REPLAY_DESCRIPTION,
    response_model=PlanOut,
    responses=idempotent_responses(201, 400, 401, 403, 404, 409),
)
async def add_plan_version(
    plan_id: UUID,
    body: PlanVersionCreate,
    admin: RequireAdmin,
    plans: Plans,
    idempotent: IdempotencyKey,
) -> PlanOut | Response:
    once = Once.of(admin, idempotent, status.HTTP_201_CREATED)
    return answer(await plans.add_version(admin, plan_id, body, once), once)


@router.get(
    "/{plan_id}/history",
    summary="Every version of a plan, oldest first (admin)",
    responses=error_responses(401, 403, 404),
)
async def plan_history(plan_id: UUID, _: RequireAdmin, plans: Plans) -> PlanHistory:
    return await plans.history(plan_id)
