import uuid
from datetime import UTC, datetime, timedelta

from ..conftest import DEFAULT_PLAN_CREDITS, HAIKU, audit, eventually, login, model_group, new_user


def plan_body(**overrides) -> dict:
    return {
        "name": f"plan-{uuid.uuid4().hex[:8]}",
        "monthlyCredits": 500,
        "requestsPerMinute": 60,
        **overrides,
    }


async def test_the_configured_default_plan_exists_from_start_up(api, auth):
    admin = await login(auth, "admin")
    plans = (await api.get("/api/plans", headers=admin)).json()["plans"]
    (default,) = [p for p in plans if p["isDefault"]]
    assert default["name"] == "free"
    assert default["current"]["monthlyCredits"] == DEFAULT_PLAN_CREDITS


async def test_editing_adds_versions_and_keeps_the_history(api, auth):
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [HAIKU])
    created = await api.post("/api/plans", json=plan_body(modelGroups=[group]), headers=admin)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert (plan["current"]["version"], plan["current"]["modelGroups"]) == (1, [group])
    now_edit = await api.post(
        f"/api/plans/{plan['id']}/versions",
        json={"monthlyCredits": "750.25", "requestsPerMinute": 90},
        headers=admin,
    )
    assert now_edit.status_code == 201, now_edit.text
    assert now_edit.json()["current"]["monthlyCredits"] == 750.25
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    scheduled = await api.post(
        f"/api/plans/{plan['id']}/versions",
        json={"monthlyCredits": 1000, "requestsPerMinute": 120, "effectiveFrom": later},
        headers=admin,
    )
    body = scheduled.json()
    assert body["current"]["version"] == 2
    assert [v["version"] for v in body["scheduled"]] == [3]
    history = (await api.get(f"/api/plans/{plan['id']}/history", headers=admin)).json()
    assert [(v["version"], v["monthlyCredits"]) for v in history["versions"]] == [
        (1, 500),
        (2, 750.25),
        (3, 1000),
    ]
    actions = [e["action"] for e in await audit(api, admin, targetType="plan", targetId=plan["id"])]
    assert actions == ["plan.version_created", "plan.version_created", "plan.created"]


async def test_bad_plans_are_refused_with_clear_errors(api, auth):
    admin = await login(auth, "admin")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    cases = [
        (plan_body(effectiveFrom=past), 400, "invalid_effective_date"),
        (plan_body(modelGroups=["no-such-group"]), 400, "unknown_model_group"),
        (plan_body(monthlyCredits=-5), 422, "validation_error"),
        (plan_body(requestsPerMinute=0), 422, "validation_error"),
        (plan_body(effectiveFrom="2030-01-01T00:00:00"), 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = await api.post("/api/plans", json=body, headers=admin)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    taken = plan_body()
    assert (await api.post("/api/plans", json=taken, headers=admin)).status_code == 201
    again = await api.post("/api/plans", json=taken, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "name_taken")
    missing = await api.get(f"/api/plans/{uuid.uuid4()}/history", headers=admin)
    assert missing.status_code == 404


async def test_only_admins_write_plans(api, auth):
    user = await new_user(auth)
    supervisor = await login(auth, "supervisor1")
    for headers in (user["headers"], supervisor):
        assert (await api.post("/api/plans", json=plan_body(), headers=headers)).status_code == 403
        history = await api.get(f"/api/plans/{uuid.uuid4()}/history", headers=headers)
        assert history.status_code == 403
    assert (await api.get("/api/plans")).status_code == 401
    assert (await api.get("/api/plans/current")).status_code == 401


async def test_users_see_the_plans_on_offer_without_their_admin_details(api, auth):
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [HAIKU])
    offered = (
        await api.post("/api/plans", json=plan_body(modelGroups=[group]), headers=admin)
    ).json()
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    not_yet = (
        await api.post("/api/plans", json=plan_body(effectiveFrom=later), headers=admin)
    ).json()
    user = await new_user(auth)

    response = await api.get("/api/plans", headers=user["headers"])

    assert response.status_code == 200, response.text
    plans = {p["id"]: p for p in response.json()["plans"]}
    assert plans[offered["id"]] == {
        "id": offered["id"],
        "name": offered["name"],
        "isDefault": False,
        "monthlyCredits": 500,
        "requestsPerMinute": 60,
        "models": [HAIKU],
    }
    assert not_yet["id"] not in plans  # no terms in force yet
    (default,) = [p for p in plans.values() if p["isDefault"]]
    assert default["models"] is None  # no model groups: every model
    # An admin still gets every plan with its versions.
    full = (await api.get("/api/plans", headers=admin)).json()["plans"]
    assert {p["id"] for p in full} >= {offered["id"], not_yet["id"]}
    assert all("current" in p and "scheduled" in p for p in full)


async def test_a_user_sees_their_own_plan(api, auth):
    user = await new_user(auth)

    async def onboarded():
        body = (await api.get("/api/plans/current", headers=user["headers"])).json()
        return body if body["plan"] is not None else None

    current = await eventually(onboarded)
    assert current, "the new user was put on no plan"
    assert current["plan"]["name"] == "free"
    assert current["plan"]["monthlyCredits"] == DEFAULT_PLAN_CREDITS
    assert current["assignedAt"]
    # A caller on no plan (the seeded admin was never onboarded here) gets null, not an error.
    admin = await login(auth, "admin")
    none = (await api.get("/api/plans/current", headers=admin)).json()
    assert none == {"plan": None, "assignedAt": None}
