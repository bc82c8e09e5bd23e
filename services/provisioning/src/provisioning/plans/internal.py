"""``GET /internal/users/{userId}/plan``: the plan a user is on, for chat, which applies its
request limit and models (scope ``plans:read``; never routed by the gateway)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import PLANS_READ
from provisioning.dependencies import Plans
from provisioning.plans.schemas import CurrentPlan
from service_kit import Text, error_responses

router = APIRouter(
    prefix="/internal",
    tags=["plans (internal)"],
    responses=error_responses(401, 403, 422),
)


@router.get(
    "/users/{user_id}/plan",
    summary="The plan a user is on, with its terms in force (plans:read)",
    description="For chat, which enforces a plan's `requestsPerMinute` and narrows the models "
    "to those of its model groups (`models`; null: every model). `plan` is null for a user on "
    "no plan (unknown, not yet onboarded, or a plan with no version in force yet).",
    dependencies=[Depends(require_scope(PLANS_READ))],
)
async def user_plan(
    user_id: Annotated[Text, Path(min_length=1, max_length=254)], plans: Plans
) -> CurrentPlan:
    return await plans.current(user_id)
