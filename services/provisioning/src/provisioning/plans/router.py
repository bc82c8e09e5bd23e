from uuid import UUID

from fastapi import APIRouter, status

from jwt_contract.dependencies import RequireAdmin
from provisioning.dependencies import Plans
from provisioning.plans.schemas import PlanCreate, PlanHistory, PlanList, PlanOut, PlanVersionCreate
from service_kit import error_responses

router = APIRouter(prefix="/api/plans", tags=["plans"])


@router.get(
    "", summary="Every plan with the version in force (admin)", responses=error_responses(401, 403)
)
async def list_plans(_: RequireAdmin, plans: Plans) -> PlanList:
    return await plans.list()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a plan at version 1 (admin)",
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_plan(body: PlanCreate, admin: RequireAdmin, plans: Plans) -> PlanOut:
    return await plans.create(admin, body)


@router.post(
    "/{plan_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Edit a plan: new terms as a new version from effectiveFrom (admin)",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def add_plan_version(
    plan_id: UUID, body: PlanVersionCreate, admin: RequireAdmin, plans: Plans
) -> PlanOut:
    return await plans.add_version(admin, plan_id, body)


@router.get(
    "/{plan_id}/history",
    summary="Every version of a plan, oldest first (admin)",
    responses=error_responses(401, 403, 404),
)
async def plan_history(plan_id: UUID, _: RequireAdmin, plans: Plans) -> PlanHistory:
    return await plans.history(plan_id)
