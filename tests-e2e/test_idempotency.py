"""Retries that never double-charge (issue 14): an allocation sent twice through the gateway
with one Idempotency-Key moves credits once and answers the first response again."""

import uuid
from decimal import Decimal

import httpx
from helpers import bearer, new_user, onboarded_user, tokens_for


def total_credits(gateway: httpx.Client, token: str) -> Decimal:
    response = gateway.get("/api/credits/balance", headers=bearer(token))
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def allocate(gateway: httpx.Client, admin: str, body: dict, key: str) -> httpx.Response:
    headers = {**bearer(admin), "Idempotency-Key": key}
    return gateway.post("/api/credits/allocate", json=body, headers=headers)


def test_the_same_key_twice_allocates_once_and_replays_the_answer(gateway):
    admin = tokens_for(gateway, "admin")["accessToken"]
    # Once the plan's grant is on the balance, so nothing else arrives while we measure.
    user = onboarded_user(gateway)
    token = user["accessToken"]
    key = str(uuid.uuid4())
    body = {"targetUserId": user["user"]["id"], "credits": 42, "notes": "e2e idempotency"}
    before = total_credits(gateway, token)

    first = allocate(gateway, admin, body, key)
    assert first.status_code == 201, first.text
    second = allocate(gateway, admin, body, key)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers

    allocated = [
        a
        for a in gateway.get("/api/credits/balance", headers=bearer(token)).json()[
            "activeAllocations"
        ]
        if a.get("notes") == "e2e idempotency"
    ]
    assert len(allocated) == 1
    assert allocated[0]["id"] == first.json()["id"]
    assert total_credits(gateway, token) - before == 42


def test_the_same_key_with_another_body_is_422_and_moves_nothing(gateway):
    admin = tokens_for(gateway, "admin")["accessToken"]
    user = new_user(gateway)
    key = str(uuid.uuid4())
    body = {"targetUserId": user["user"]["id"], "credits": 7, "notes": "e2e reused key"}
    assert allocate(gateway, admin, body, key).status_code == 201
    reused = allocate(gateway, admin, {**body, "credits": 8}, key)
    assert reused.status_code == 422, reused.text
    assert reused.json()["code"] == "idempotency_key_reused"
    notes = [
        a["notes"]
        for a in gateway.get("/api/credits/balance", headers=bearer(user["accessToken"])).json()[
            "activeAllocations"
        ]
    ]
    assert notes.count("e2e reused key") == 1
