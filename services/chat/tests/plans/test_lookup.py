"""``PlanLookup``: a user's plan from provisioning, kept fresh for a while, shared by concurrent
requests, and the last one known used while provisioning cannot be reached."""

import asyncio

import pytest

from chat.plans.client import CallerPlan
from chat.plans.lookup import PlanLookup
from service_client import peer_unavailable
from service_kit import ApiError

STARTER = CallerPlan("p1", "starter", 3, frozenset({"m1"}))
PRO = CallerPlan("p2", "pro", 60, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Provisioning:
    """Answers each user's plan; ``down`` makes every call fail as an unreachable peer."""

    def __init__(self, plans: dict[str, CallerPlan | None]) -> None:
        self.plans = plans
        self.down = False
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None

    async def plan_of(self, user_id: str) -> CallerPlan | None:
        self.calls.append(user_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise peer_unavailable("provisioning")
        return self.plans.get(user_id)


def lookup(source: Provisioning, clock: Clock, **options) -> PlanLookup:
    return PlanLookup(
        source,
        fresh_seconds=options.pop("fresh_seconds", 10),
        stale_seconds=options.pop("stale_seconds", 60),
        clock=clock,
        **options,
    )


async def test_an_answer_is_used_while_fresh_then_asked_again():
    source, clock = Provisioning({"u": STARTER}), Clock()
    plans = lookup(source, clock)
    assert await plans.plan_of("u") == STARTER
    source.plans["u"] = PRO  # moved to another plan
    clock.now += 9.9
    assert await plans.plan_of("u") == STARTER
    assert source.calls == ["u"]
    clock.now += 0.2  # the change applies once PLAN_CACHE_SECONDS have passed
    assert await plans.plan_of("u") == PRO
    assert source.calls == ["u", "u"]


async def test_a_user_on_no_plan_is_remembered_too():
    source, clock = Provisioning({}), Clock()
    plans = lookup(source, clock)
    assert await plans.plan_of("nobody") is None
    assert await plans.plan_of("nobody") is None
    assert source.calls == ["nobody"]


async def test_concurrent_requests_of_one_user_share_one_call():
    source, clock = Provisioning({"u": STARTER, "v": PRO}), Clock()
    source.gate = asyncio.Event()
    plans = lookup(source, clock)
    waiting = [asyncio.create_task(plans.plan_of(user)) for user in ["u"] * 20 + ["v"] * 5]
    await asyncio.sleep(0)  # every request is waiting for the answers
    source.gate.set()
    answers = await asyncio.gather(*waiting)
    assert answers == [STARTER] * 20 + [PRO] * 5
    assert sorted(source.calls) == ["u", "v"]


async def test_a_caller_that_goes_away_does_not_cancel_the_others_answer():
    source, clock = Provisioning({"u": STARTER}), Clock()
    source.gate = asyncio.Event()
    plans = lookup(source, clock)
    first = asyncio.create_task(plans.plan_of("u"))
    second = asyncio.create_task(plans.plan_of("u"))
    await asyncio.sleep(0)
    first.cancel()
    source.gate.set()
    assert await second == STARTER
    with pytest.raises(asyncio.CancelledError):
        await first
    assert source.calls == ["u"]


async def test_while_provisioning_is_down_the_last_known_plan_applies_for_a_while():
    source, clock = Provisioning({"u": STARTER}), Clock()
    plans = lookup(source, clock, fresh_seconds=10, stale_seconds=60)
    assert await plans.plan_of("u") == STARTER
    source.down = True
    clock.now += 69.9  # past fresh, within fresh + stale
    assert await plans.plan_of("u") == STARTER
    assert len(source.calls) == 2  # it did ask
    clock.now += 0.2
    with pytest.raises(ApiError) as refused:
        await plans.plan_of("u")
    assert (refused.value.status, refused.value.code) == (503, "provisioning_unavailable")
    source.down = False
    assert await plans.plan_of("u") == STARTER  # back by itself


async def test_an_unknown_users_plan_is_503_while_provisioning_is_down():
    source, clock = Provisioning({"u": STARTER}), Clock()
    source.down = True
    plans = lookup(source, clock)
    with pytest.raises(ApiError) as refused:
        await plans.plan_of("u")
    assert refused.value.code == "provisioning_unavailable"
    assert refused.value.headers["Retry-After"]


async def test_memory_is_bounded_by_the_users_it_keeps():
    source, clock = Provisioning({}), Clock()
    plans = lookup(source, clock, max_users=2)
    for user in ("a", "b", "c", "a"):
        await plans.plan_of(user)
    assert source.calls == ["a", "b", "c", "a"]  # "a" was the oldest: forgotten for "c"
