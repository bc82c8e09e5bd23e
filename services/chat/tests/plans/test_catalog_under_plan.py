"""The catalog as a caller on a plan sees it: the plan's models narrow the role's (and a
personal key's); a team key's token keeps its team's models; a plan that cannot be known
refuses any list or choice of models."""

import pytest

from chat.catalog.catalog import ModelCatalog
from chat.config import DEFAULT_MODELS
from chat.plans.caller import EVERY_MODEL, PlanModels, plan_models
from chat.plans.client import CallerPlan
from chat.plans.lookup import PlanLookup
from jwt_contract import Principal
from service_client import peer_unavailable
from service_kit import ApiError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
TITAN = "amazon.titan-text-express-v1"
CATALOG = ModelCatalog(DEFAULT_MODELS, HAIKU)


def principal(role="enduser", **claims) -> Principal:
    return Principal("u", "user", "u@example.com", role, "access", "j", 0, claims)


def ids(catalog: ModelCatalog, who: Principal) -> list[str]:
    return [m.id for m in catalog.for_principal(who)]


def test_a_plans_models_narrow_what_the_caller_may_list_and_use():
    catalog = CATALOG.under_plan(PlanModels(frozenset({HAIKU, "gpt-4o-mini"})))
    assert ids(catalog, principal()) == [HAIKU]  # gpt-4o-mini is not an enduser's
    assert ids(catalog, principal("admin")) == [HAIKU, "gpt-4o-mini"]
    assert catalog.resolve(None, principal()).id == HAIKU
    with pytest.raises(ApiError) as refused:
        catalog.resolve(SONNET, principal())
    assert (refused.value.status, refused.value.code) == (400, "invalid_model")
    # The catalog itself is unchanged for everyone else.
    assert SONNET in ids(CATALOG, principal())


def test_a_personal_keys_models_and_its_owners_plan_both_apply():
    catalog = CATALOG.under_plan(PlanModels(frozenset({HAIKU, TITAN})))
    key = principal(keyId="k", models=[HAIKU, SONNET])
    assert ids(catalog, key) == [HAIKU]
    with pytest.raises(ApiError):
        catalog.resolve(TITAN, key)


def test_a_plan_that_cannot_be_known_refuses_every_list_and_choice():
    catalog = CATALOG.under_plan(PlanModels(refusal=peer_unavailable("provisioning")))
    for attempt in (
        lambda: catalog.for_principal(principal()),
        lambda: catalog.resolve(HAIKU, principal()),
    ):
        with pytest.raises(ApiError) as refused:
            attempt()
        assert (refused.value.status, refused.value.code) == (503, "provisioning_unavailable")
    assert len(catalog.all()) == len(DEFAULT_MODELS)  # the admin's sync does not depend on it


class OnePlan:
    def __init__(self, plan: CallerPlan | None, *, down: bool = False) -> None:
        self.plan, self.down, self.asked = plan, down, 0

    async def plan_of(self, user_id: str) -> CallerPlan | None:
        self.asked += 1
        if self.down:
            raise peer_unavailable("provisioning")
        return self.plan


async def test_what_a_callers_plan_allows():
    starter = CallerPlan("p", "starter", 3, frozenset({HAIKU}))
    source = OnePlan(starter)
    plans = PlanLookup(source, fresh_seconds=10, stale_seconds=10)
    assert await plan_models(plans, principal()) == PlanModels(frozenset({HAIKU}))
    assert await plan_models(plans, principal(keyId="k")) == PlanModels(frozenset({HAIKU}))
    assert await plan_models(None, principal()) == EVERY_MODEL  # plans not applied
    open_plan = PlanLookup(
        OnePlan(CallerPlan("p", "open", 3, None)), fresh_seconds=1, stale_seconds=1
    )
    assert await plan_models(open_plan, principal()) == EVERY_MODEL
    unknown = PlanLookup(OnePlan(None, down=True), fresh_seconds=1, stale_seconds=1)
    assert (await plan_models(unknown, principal())).refusal is not None


async def test_a_team_keys_token_is_not_narrowed_by_a_plan_nor_asks_for_one():
    source = OnePlan(CallerPlan("p", "starter", 3, frozenset({TITAN})))
    plans = PlanLookup(source, fresh_seconds=10, stale_seconds=10)
    team_key = principal(teamId="t", keyId="k", accountId="a", models=[HAIKU, SONNET])
    allowed = await plan_models(plans, team_key)
    assert allowed == EVERY_MODEL
    assert source.asked == 0
    assert ids(CATALOG.under_plan(allowed), team_key) == [SONNET, HAIKU]
