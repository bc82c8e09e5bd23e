"""``GET /internal/users/{userId}/plan``: the plan chat applies to a user (its request limit
and the models of its groups); services with plans:read only."""

import uuid

from ..conftest import (
    HAIKU,
    SONNET,
    audit,
    eventually,
    login,
    model_group,
    new_user,
    service_headers,
)

CHAT = service_headers("chat")


def plan_path(user_id: str) -> str:
    return f"/internal/users/{user_id}/plan"


async def onboarded(api, user) -> dict:
    """The user's plan once onboarding (user.registered) has put them on the default one."""

    async def assigned():
        body = (await api.get(plan_path(user["id"]), headers=CHAT)).json()
        return body if body["plan"] else None

    body = await eventually(assigned)
    assert body, "the new user was put on no plan"
    return body


async def put_on(api, admin: dict, user: dict, plan_id: str):
    """An admin's PUT /api/plans/{planId}/users/{user} (by username)."""
    return await api.put(f"/api/plans/{plan_id}/users/{user['username']}", headers=admin)


async def test_it_answers_the_users_plan_with_its_limit_and_models(api, auth):
    user = await new_user(auth)
    default = await onboarded(api, user)
    assert default["plan"]["name"] == "free"
    assert default["plan"]["models"] is None  # no model groups: every model
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [SONNET, HAIKU])
    created = await api.post(
        "/api/plans",
        json={
            "name": f"plan-{uuid.uuid4().hex[:8]}",
            "monthlyCredits": 5,
            "requestsPerMinute": 3,
            "modelGroups": [group],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert (await put_on(api, admin, user, created.json()["id"])).status_code == 200
    response = await api.get(plan_path(user["id"]), headers=CHAT)
    assert response.status_code == 200, response.text
    plan = response.json()["plan"]
    assert (plan["id"], plan["requestsPerMinute"], plan["models"]) == (
        created.json()["id"],
        3,
        sorted([SONNET, HAIKU]),
    )
    # A new version applies at once to what the route answers.
    edited = await api.post(
        f"/api/plans/{plan['id']}/versions",
        json={"monthlyCredits": 5, "requestsPerMinute": 7},
        headers=admin,
    )
    assert edited.status_code == 201, edited.text
    again = (await api.get(plan_path(user["id"]), headers=CHAT)).json()["plan"]
    assert (again["requestsPerMinute"], again["models"]) == (7, None)


async def test_a_user_on_no_plan_gets_null(api):
    response = await api.get(plan_path(f"nobody-{uuid.uuid4()}"), headers=CHAT)
    assert response.status_code == 200, response.text
    assert response.json() == {"plan": None, "assignedAt": None}


async def test_only_services_holding_plans_read_may_ask(api, auth):
    user = await new_user(auth)
    path = plan_path(user["id"])
    assert (await api.get(path)).json()["code"] == "invalid_token"
    as_user = await api.get(path, headers=user["headers"])
    assert (as_user.status_code, as_user.json()["code"]) == (403, "service_only")
    for service in ("accounting", "gateway", "provisioning"):
        other = await api.get(path, headers=service_headers(service))
        assert (other.status_code, other.json()["code"]) == (403, "insufficient_scope"), service


async def new_plan(api, admin: dict, **terms) -> dict:
    body = {"name": f"plan-{uuid.uuid4().hex[:8]}", "monthlyCredits": 5, "requestsPerMinute": 3}
    created = await api.post("/api/plans", json={**body, **terms}, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()


async def test_an_admin_moves_a_user_to_another_plan_and_it_is_audited(api, auth):
    admin = await login(auth, "admin")
    user = await new_user(auth)
    default = await onboarded(api, user)
    plan = await new_plan(api, admin)
    moved = await put_on(api, admin, user, plan["id"])
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["userId"], body["username"], body["planId"], body["planName"]) == (
        user["id"],
        user["username"],
        plan["id"],
        plan["name"],
    )
    assert body["previousPlanId"] == default["plan"]["id"]
    current = (await api.get("/api/plans/current", headers=user["headers"])).json()
    assert current["plan"]["id"] == plan["id"]
    (entry, *_) = await audit(api, admin, action="plan.assigned", targetId=user["id"])
    assert entry["actorId"] != "system"
    assert entry["before"] == {"planId": default["plan"]["id"]}
    assert entry["after"]["planId"] == plan["id"]
    # By id, or by email, a user on no plan yet is put on one too.
    fresh = await new_user(auth)
    by_email = await api.put(f"/api/plans/{plan['id']}/users/{fresh['email']}", headers=admin)
    assert by_email.status_code == 200, by_email.text
    again = (await api.get(plan_path(fresh["id"]), headers=CHAT)).json()
    assert again["plan"]["id"] == plan["id"]


async def test_only_an_admin_assigns_a_known_plan_to_a_known_user(api, auth):
    admin = await login(auth, "admin")
    user = await new_user(auth)
    plan = await new_plan(api, admin)
    path = f"/api/plans/{plan['id']}/users/{user['username']}"
    assert (await api.put(path)).status_code == 401
    as_user = await api.put(path, headers=user["headers"])
    assert (as_user.status_code, as_user.json()["code"]) == (403, "forbidden")
    unknown_plan = await api.put(
        f"/api/plans/{uuid.uuid4()}/users/{user['username']}", headers=admin
    )
    assert (unknown_plan.status_code, unknown_plan.json()["code"]) == (404, "not_found")
    unknown_user = await api.put(
        f"/api/plans/{plan['id']}/users/nobody-{uuid.uuid4().hex}", headers=admin
    )
    assert (unknown_user.status_code, unknown_user.json()["code"]) == (404, "user_not_found")
    still = (await api.get(plan_path(user["id"]), headers=CHAT)).json()["plan"]
    assert still is None or still["id"] != plan["id"]
