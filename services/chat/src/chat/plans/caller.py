"""What the caller's plan allows, for the routes that list or choose models."""

from dataclasses import dataclass

from chat.plans.lookup import PlanLookup
from jwt_contract import Principal
from service_kit import ApiError


@dataclass(frozen=True, slots=True)
class PlanModels:
    """``allowed`` None allows every model. ``refusal`` is set when the caller's plan could not
    be known (provisioning down): any list or choice of models is then refused with it, since
    the plan might narrow them."""

    allowed: frozenset[str] | None = None
    refusal: ApiError | None = None


EVERY_MODEL = PlanModels()


def acts_as_team(principal: Principal) -> bool:
    """A team key's token: the team's model groups apply (its ``models`` claim), not the plan
    of whoever holds the key."""
    return "teamId" in principal.claims


async def plan_models(plans: PlanLookup | None, principal: Principal) -> PlanModels:
    """The models the caller's plan allows (every one when plans are not applied)."""
    if plans is None or acts_as_team(principal):
        return EVERY_MODEL
    try:
        plan = await plans.plan_of(principal.user_id)
    except ApiError as refusal:
        return PlanModels(refusal=refusal)
    return EVERY_MODEL if plan is None else PlanModels(plan.models)
