"""Model health through the gateway: every model's status from chat's periodic provider probe,
an admin's sync of the providers' model lists (Bedrock ListFoundationModels, OpenAI's and
Anthropic's GET /v1/models, all served by the simulator), and an unavailable model refused at
once.

The simulator is shared with every other test of the stack: the one model made unavailable
here (Titan, which no other journey chats with) is served normally again, and chat told so by
a sync, in a ``finally``.
"""

import os
import time
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from helpers import bearer, onboarded_user, tokens_for

ADOPTION_SECONDS = 1.5  # chat's refresh of the shared health result (1 s) and a margin

SIMULATOR_URL = os.environ.get("SIMULATOR_URL", "http://127.0.0.1:3005")
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TITAN = "amazon.titan-text-express-v1"
GPT = "gpt-4o-mini"
CLAUDE = "claude-3-5-haiku-20241022"
STATUSES = {"available", "degraded", "unavailable"}


def health(gateway: httpx.Client, token: str) -> dict[str, dict]:
    response = gateway.get("/api/models/health", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()["models"]}


def sync(gateway: httpx.Client, admin: str) -> dict:
    response = gateway.post("/api/models/sync", headers=bearer(admin))
    assert response.status_code == 200, response.text
    return response.json()


def test_models_carry_their_status_and_health_lists_each_with_its_last_check(gateway):
    user = tokens_for(gateway, "user1")["accessToken"]
    admin = tokens_for(gateway, "admin")["accessToken"]

    models = gateway.get("/api/models", headers=bearer(user)).json()["models"]
    every = health(gateway, admin)
    own = health(gateway, user)

    assert models and all(m["status"] in STATUSES for m in models)
    assert {HAIKU, TITAN, GPT} <= set(every)
    assert set(own) == {m["id"] for m in models} and GPT not in own
    for model in every.values():
        assert model["status"] in STATUSES
        assert model["provider"] in {"bedrock", "openai", "anthropic"}
        assert model["lastCheckedAt"], model  # the probe runs as chat starts
    assert gateway.get("/api/models/health").status_code == 401


def adopted_everywhere() -> None:
    """Wait out the documented bound for every chat replica and worker to adopt a sync: each
    reads the shared result from Redis once a second (README "Model health"); nothing outside
    chat can tell when the replicas that did not serve the sync have read it."""
    time.sleep(ADOPTION_SECONDS)


def test_an_admin_syncs_the_providers_model_lists_and_nobody_else_may(gateway):
    admin = tokens_for(gateway, "admin")["accessToken"]

    synced = sync(gateway, admin)

    providers = {p["provider"]: p for p in synced["providers"]}
    assert providers["bedrock"]["reachable"] and HAIKU in providers["bedrock"]["models"]
    assert providers["openai"]["reachable"] and GPT in providers["openai"]["models"]
    assert providers["anthropic"]["reachable"] and CLAUDE in providers["anthropic"]["models"]
    checked = {m["id"]: m for m in synced["models"]}
    assert checked[HAIKU]["lastCheckedAt"] == synced["syncedAt"]
    adopted_everywhere()
    last_checked = health(gateway, admin)[HAIKU]["lastCheckedAt"]
    assert datetime.fromisoformat(last_checked) >= datetime.fromisoformat(synced["syncedAt"])
    for name in ("user1", "supervisor1"):
        token = tokens_for(gateway, name)["accessToken"]
        refused = gateway.post("/api/models/sync", headers=bearer(token))
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"


def test_an_unavailable_model_answers_503_at_once_and_holds_nothing(gateway):
    with httpx.Client(base_url=SIMULATOR_URL, timeout=10) as simulator:
        if simulator.get("/sim/models").status_code == 404:
            pytest.skip("this simulator serves no /sim/models (ENVIRONMENT=production)")
        admin = tokens_for(gateway, "admin")["accessToken"]
        user = onboarded_user(gateway)
        headers = bearer(user["accessToken"])
        created = gateway.post("/api/chat/sessions", json={"modelId": TITAN}, headers=headers)
        assert created.status_code == 201, created.text
        session = created.json()["sessionId"]
        before = gateway.get("/api/credits/balance", headers=headers).json()
        try:
            made = simulator.put(f"/sim/models/{TITAN}", json={"available": False})
            assert made.status_code == 200, made.text
            result = sync(gateway, admin)
            synced = {m["id"]: m for m in result["models"]}
            assert synced[TITAN]["status"] == "unavailable"
            assert synced[HAIKU]["status"] != "unavailable"
            providers = {p["provider"]: p for p in result["providers"]}
            assert TITAN not in providers["bedrock"]["models"]
            adopted_everywhere()

            started = time.monotonic()
            streamed = gateway.post(
                f"/api/chat/sessions/{session}/stream", json={"message": "hi"}, headers=headers
            )
            completed = gateway.post(
                "/v1/chat/completions",
                json={"model": TITAN, "messages": [{"role": "user", "content": "hi"}]},
                headers=headers,
            )
            elapsed = time.monotonic() - started

            for refused in (streamed, completed):
                assert refused.status_code == 503, refused.text
                assert refused.json()["code"] == "model_unavailable"
                assert refused.headers["Retry-After"]
            assert elapsed < 5
            listed = gateway.get("/api/models", headers=headers).json()["models"]
            assert next(m for m in listed if m["id"] == TITAN)["status"] == "unavailable"
            after = gateway.get("/api/credits/balance", headers=headers).json()
            assert Decimal(str(after["totalCredits"])) == Decimal(str(before["totalCredits"]))
            assert after["reservedCredits"] == 0
        finally:
            simulator.delete(f"/sim/models/{TITAN}")
            restored = {m["id"]: m for m in sync(gateway, admin)["models"]}
        assert restored[TITAN]["status"] != "unavailable"
        adopted_everywhere()
        answered = gateway.post(
            f"/api/chat/sessions/{session}/messages", json={"message": "hi"}, headers=headers
        )
        assert answered.status_code == 200, answered.text
