"""What a user is charged is what a service measured: holding, extending and settling credits,
and recording usage, are refused to an end user's own token, and to a service without the
scope. (Before service identity, a user settled their own answer for 0 tokens.)"""

import uuid

import pytest

from accounting.ledger.check import find_problems

from ..conftest import balance, bearer, funded_user, on_behalf, service_token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


async def hold(client, user) -> dict:
    response = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s-1", "modelId": HAIKU, "estimatedTokens": 1000},
        headers=on_behalf(user),
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("path", ["finalize", "abort"])
async def test_a_user_cannot_settle_their_own_answer_for_nothing(client, auth, db, path):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    attack = await client.post(
        f"/api/streaming-sessions/{path}",
        json={"streamingSessionId": held["streamingSessionId"], "actualTokens": 0},
        headers=bearer(user["token"]),
    )
    assert attack.status_code == 403
    assert attack.json()["code"] == "service_only"
    during = await balance(client, user)
    assert during["reservedCredits"] == held["allocatedCredits"]  # the hold stands
    # The service that measured the answer settles it for what was generated.
    done = await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": held["streamingSessionId"], "outputTokens": 600},
        headers=bearer(user["chat"]),
    )
    assert done.status_code == 200
    assert done.json()["usedCredits"] == 0.75
    assert (await balance(client, user))["totalCredits"] == 9.25
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_user_tokens_are_refused_on_every_service_route(client, auth):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    own = bearer(user["token"])
    calls = [
        (
            "/api/streaming-sessions/initialize",
            {"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10},
        ),
        (f"/api/streaming-sessions/{held['streamingSessionId']}/extend", {}),
        ("/api/usage/record", {"service": "chat", "operation": "x", "credits": 0}),
    ]
    for path, body in calls:
        # Even with the user's token also in X-On-Behalf-Of: no service token, no entry.
        response = await client.post(
            path, json=body, headers={**own, "X-On-Behalf-Of": own["Authorization"]}
        )
        assert (response.status_code, response.json()["code"]) == (403, "service_only"), path
    assert (await balance(client, user))["totalCredits"] == 10


async def test_a_service_without_the_scope_is_refused(client, auth):
    user = await funded_user(client, auth, 10)
    gateway = await service_token(auth, "gateway")  # may exchange API keys, nothing else
    response = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10},
        headers={**bearer(gateway), "X-On-Behalf-Of": f"Bearer {user['token']}"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    held = await hold(client, user)
    settle = await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": held["streamingSessionId"], "actualTokens": 0},
        headers=bearer(gateway),
    )
    assert (settle.status_code, settle.json()["code"]) == (403, "insufficient_scope")


async def test_a_hold_is_for_a_named_user_only(client, auth):
    user = await funded_user(client, auth, 10)
    missing = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10},
        headers=bearer(user["chat"]),
    )
    assert (missing.status_code, missing.json()["code"]) == (401, "invalid_token")
    forged = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10},
        headers={**bearer(user["chat"]), "X-On-Behalf-Of": "Bearer not.a.token"},
    )
    assert forged.status_code == 401


async def test_a_service_token_is_not_a_user_token(client, auth):
    user = await funded_user(client, auth, 10)
    response = await client.get("/api/credits/balance", headers=bearer(user["chat"]))
    assert response.status_code == 401


async def test_an_extended_hold_outlives_its_first_expiry(client, auth, app, db):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    await db.execute(
        "UPDATE reservations SET expires_at = now() + interval '1 second' WHERE id = $1",
        held["streamingSessionId"],
    )
    extended = await client.post(
        f"/api/streaming-sessions/{held['streamingSessionId']}/extend",
        json={"inputTokens": 10, "outputTokens": 100},
        headers=bearer(user["chat"]),
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["expiresAt"] > held["expiresAt"]
    await app.state.hold_sweeper.sweep_once()
    assert (await balance(client, user))["reservedCredits"] == held["allocatedCredits"]


async def test_a_hold_that_expires_is_charged_the_last_reported_progress(client, auth, app, db):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    for output_tokens in (200, 600, 400):  # reports may arrive out of order: the most counts
        response = await client.post(
            f"/api/streaming-sessions/{held['streamingSessionId']}/extend",
            json={"outputTokens": output_tokens},
            headers=bearer(user["chat"]),
        )
        assert response.status_code == 200
    await db.execute(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1",
        held["streamingSessionId"],
    )
    assert await app.state.hold_sweeper.sweep_once() >= 1
    after = await balance(client, user)
    # 600 output tokens at 1.25/1K: charged, never free.
    assert (after["totalCredits"], after["reservedCredits"]) == (9.25, 0)
    usage = await db.fetchrow(
        "SELECT output_tokens, credits_micro FROM usage_records WHERE reservation_id = $1",
        uuid.UUID(held["streamingSessionId"]),
    )
    assert (usage["output_tokens"], usage["credits_micro"]) == (600, 750_000)
    late = await client.post(
        f"/api/streaming-sessions/{held['streamingSessionId']}/extend",
        json={"outputTokens": 900},
        headers=bearer(user["chat"]),
    )
    assert (late.status_code, late.json()["code"]) == (409, "reservation_closed")
    async with db.acquire() as conn:
        assert await find_problems(conn) == []
