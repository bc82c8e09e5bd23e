"""Plans apply (issue 14), through the gateway: an admin makes a plan with a low request limit
and one model group and puts a user on it; that user's (rpm+1)th chat write is 429 with
Retry-After, and a model outside the plan is neither listed nor usable, while a user on another
plan is unaffected."""

import time
import uuid

from helpers import bearer, onboarded_user, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
PLAN_RPM = 3


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def plan(gateway, admin: dict, **terms) -> dict:
    body = {"name": f"e2e-plan-{uuid.uuid4().hex[:8]}", "monthlyCredits": 5, **terms}
    return created(gateway.post("/api/plans", json=body, headers=admin))


def put_on(gateway, admin: dict, user: dict, plan_id: str) -> None:
    username = user["user"]["username"]
    response = gateway.put(f"/api/plans/{plan_id}/users/{username}", headers=admin)
    assert response.status_code == 200, response.text


def listed(gateway, headers: dict) -> tuple[set[str], set[str]]:
    models = gateway.get("/api/models", headers=headers)
    openai = gateway.get("/v1/models", headers=headers)
    assert (models.status_code, openai.status_code) == (200, 200), models.text
    return {m["id"] for m in models.json()["models"]}, {m["id"] for m in openai.json()["data"]}


def completion(gateway, headers: dict, model: str):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return gateway.post("/v1/chat/completions", json=body, headers=headers)


def session_creates(gateway, headers: dict, count: int) -> list:
    return [
        gateway.post("/api/chat/sessions", json={"title": f"plan {n}"}, headers=headers)
        for n in range(count)
    ]


def in_one_limit_window(needed: float = 15) -> None:
    """Chat counts per clock minute: wait for the next one when this one is nearly over."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.05)


def test_a_plans_limit_and_models_apply_to_its_users_only(gateway):
    admin = bearer(tokens_for(gateway, "admin")["accessToken"])
    group = f"e2e-group-{uuid.uuid4().hex[:8]}"
    created(
        gateway.post("/api/model-groups", json={"name": group, "models": [HAIKU]}, headers=admin)
    )
    narrow = plan(gateway, admin, requestsPerMinute=PLAN_RPM, modelGroups=[group])
    roomy = plan(gateway, admin, requestsPerMinute=60)
    on_narrow, on_roomy = onboarded_user(gateway), onboarded_user(gateway)
    put_on(gateway, admin, on_narrow, narrow["id"])
    put_on(gateway, admin, on_roomy, roomy["id"])
    limited, other = bearer(on_narrow["accessToken"]), bearer(on_roomy["accessToken"])

    assert listed(gateway, limited) == ({HAIKU}, {HAIKU})
    refused = completion(gateway, limited, SONNET)
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_model")
    assert {HAIKU, SONNET} <= listed(gateway, other)[0]
    assert completion(gateway, other, SONNET).status_code == 200

    in_one_limit_window()
    writes = session_creates(gateway, limited, PLAN_RPM + 1)
    assert [w.status_code for w in writes] == [201] * PLAN_RPM + [429], writes[-1].text
    assert writes[-1].json()["code"] == "rate_limited"
    assert 1 <= int(writes[-1].headers["Retry-After"]) <= 60
    # The other plan's user writes on (chat's own limit, 30, would refuse neither).
    assert [w.status_code for w in session_creates(gateway, other, PLAN_RPM + 1)] == [201] * (
        PLAN_RPM + 1
    )
