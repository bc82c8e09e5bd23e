"""The whole suite through its single public entry, the gateway (GATEWAY_URL, default :8080)."""

import time
import uuid
from decimal import Decimal

from helpers import bearer, login, sse_events

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def test_a_user_logs_in_reads_credits_lists_models_and_streams_an_answer(gateway):
    admin = login(gateway, "admin")
    assert admin.status_code == 200, admin.text
    granted = gateway.post(
        "/api/credits/allocate",
        json={"targetUserId": "user1", "credits": 20},
        headers=bearer(admin.json()["accessToken"]),
    )
    assert granted.status_code == 201, granted.text

    logged_in = login(gateway, "user1")
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["user"]["username"] == "user1"
    user = bearer(logged_in.json()["accessToken"])

    balance = gateway.get("/api/credits/balance", headers=user)
    assert balance.status_code == 200, balance.text
    before = Decimal(str(balance.json()["totalCredits"]))
    assert before >= 20

    models = gateway.get("/api/models", headers=user)
    assert models.status_code == 200, models.text
    assert HAIKU in str(models.json())

    created = gateway.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=user)
    assert created.status_code == 201, created.text
    session = created.json()["sessionId"]

    # Paced at 40 tokens/s for 40 tokens: if anything between the model and this client held
    # the events back, they would arrive together instead of over about a second.
    prompt = "Say hello through the gateway [[sim:tokens-per-second=40]] [[sim:answer-tokens=40]]"
    arrivals: list[tuple[str, dict, float]] = []
    with gateway.stream(
        "POST",
        f"/api/chat/sessions/{session}/stream",
        json={"message": prompt},
        headers={**user, "X-Request-ID": f"e2e-{uuid.uuid4().hex[:12]}"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for event, data, _ in sse_events(response):
            arrivals.append((event, data, time.monotonic()))
            if event in ("complete", "error"):
                break
    names = [event for event, _, _ in arrivals]
    assert names[0] == "model" and names[-1] == "complete", names
    chunks = [(data, at) for event, data, at in arrivals if event == "chunk"]
    assert len(chunks) > 5 and "".join(d["content"] for d, _ in chunks)
    assert chunks[-1][1] - chunks[0][1] > 0.4, "the chunks arrived all at once: buffered"
    complete = arrivals[-1][1]
    assert complete["tokensUsed"] > 0 and complete["sessionId"] == session

    after = Decimal(str(gateway.get("/api/credits/balance", headers=user).json()["totalCredits"]))
    assert before - after == Decimal(str(complete["creditsUsed"])) > 0
    assert gateway.delete(f"/api/chat/sessions/{session}", headers=user).status_code == 200


def test_an_unknown_prefix_is_404_in_the_envelope(gateway):
    response = gateway.get("/api/nowhere/at/all")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found", "code": "not_found"}
    assert response.headers["x-request-id"]


def test_the_request_id_is_echoed_through_the_gateway(gateway):
    request_id = f"e2e-gw-{uuid.uuid4().hex[:12]}"
    # A request auth refuses (no token): its error comes back with the id the client chose.
    response = gateway.get("/api/auth/me", headers={"X-Request-ID": request_id})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response.headers.get_list("x-request-id") == [request_id]
    minted = gateway.get("/api/health")
    assert minted.headers["x-request-id"]


def test_the_gateway_is_ready_and_names_each_upstream(gateway):
    response = gateway.get("/api/health/ready")
    assert response.status_code == 200, response.text
    services = response.json()["services"]
    assert {services[name] for name in ("auth", "accounting", "chat")} == {"ok"}
    # Provisioning is optional until it exists; its routes answer cleanly meanwhile.
    if services.get("provisioning") == "down":
        orgs = gateway.get("/api/organizations")
        assert orgs.status_code == 502
        assert orgs.json()["code"] == "upstream_unavailable"
