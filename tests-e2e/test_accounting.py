from decimal import Decimal

from helpers import bearer, new_user, service_token, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"


def credits(value) -> Decimal:
    return Decimal(str(value))


def balance(accounting, token) -> dict:
    response = accounting.get("/api/credits/balance", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_allocate_reserve_finalize_and_stats(auth, accounting):
    admin = tokens_for(auth, "admin")["accessToken"]
    user1 = tokens_for(auth, "user1")["accessToken"]
    before = balance(accounting, user1)
    stats_before = accounting.get("/api/usage/stats", headers=bearer(user1)).json()
    system_before = accounting.get("/api/usage/system-stats", headers=bearer(admin)).json()

    allocated = accounting.post(
        "/api/credits/allocate",
        json={"targetUserId": "user1", "credits": 1000, "expiryDays": 30},
        headers=bearer(admin),
    )
    assert allocated.status_code == 201, allocated.text
    assert allocated.json()["credits"] == 1000
    after_allocation = balance(accounting, user1)
    assert credits(after_allocation["totalCredits"]) - credits(before["totalCredits"]) == 1000

    # Holding and settling are chat's (its own service token, for the user it names).
    chat = bearer(service_token("chat"))
    held = accounting.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "e2e-session", "modelId": HAIKU, "estimatedTokens": 2000},
        headers={**chat, "X-On-Behalf-Of": f"Bearer {user1}"},
    )
    assert held.status_code == 201, held.text
    reservation = held.json()["streamingSessionId"]
    price = accounting.post(
        "/api/credits/calculate",
        json={"modelId": HAIKU, "inputTokens": 300, "outputTokens": 700},
        headers=bearer(user1),
    ).json()["credits"]
    done = accounting.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": reservation, "inputTokens": 300, "outputTokens": 700},
        headers=chat,
    )
    assert done.status_code == 200, done.text
    assert done.json()["usedCredits"] == price
    after = balance(accounting, user1)
    assert credits(after_allocation["totalCredits"]) - credits(after["totalCredits"]) == credits(
        price
    )
    assert after["reservedCredits"] == before["reservedCredits"]

    stats = accounting.get("/api/usage/stats", headers=bearer(user1)).json()
    assert stats["totals"]["requests"] == stats_before["totals"]["requests"] + 1
    spent = credits(stats["totals"]["credits"]) - credits(stats_before["totals"]["credits"])
    assert spent == credits(price)
    system = accounting.get("/api/usage/system-stats", headers=bearer(admin)).json()
    assert system["totals"]["requests"] >= system_before["totals"]["requests"] + 1
    system_spent = credits(system["totals"]["credits"]) - credits(
        system_before["totals"]["credits"]
    )
    assert system_spent >= credits(price)
    assert any(model["modelId"] == HAIKU for model in system["byModel"])


def test_roles_on_the_ledger(auth, accounting):
    user1 = tokens_for(auth, "user1")["accessToken"]
    supervisor = tokens_for(auth, "supervisor1")["accessToken"]
    refused = accounting.post(
        "/api/credits/allocate",
        json={"targetUserId": "user1", "credits": 5},
        headers=bearer(user1),
    )
    assert refused.status_code == 403
    watched = accounting.get("/api/credits/balance/user1", headers=bearer(supervisor))
    assert watched.status_code == 200
    assert "totalCredits" in watched.json()
    assert accounting.get("/api/usage/system-stats", headers=bearer(supervisor)).status_code == 403


def test_a_reservation_beyond_the_balance_gets_402(auth, accounting):
    user = new_user(auth)  # holds at most the default plan's grant (100 credits)
    response = accounting.post(
        "/api/streaming-sessions/initialize",
        # Up to 100,000 tokens of Sonnet at 15 credits per 1K: 1,500 credits plus the margin.
        json={"sessionId": "s", "modelId": SONNET, "estimatedTokens": 100_000},
        headers={
            **bearer(service_token("chat")),
            "X-On-Behalf-Of": f"Bearer {user['accessToken']}",
        },
    )
    assert response.status_code == 402
    assert response.json() == {
        **response.json(),
        "message": "Insufficient credits",
        "code": "insufficient_credits",
    }


def test_bad_credits_get_a_clear_4xx(auth, accounting):
    admin = tokens_for(auth, "admin")["accessToken"]
    for bad in (0, -1, "abc", "1.0000001", 10**13):
        response = accounting.post(
            "/api/credits/allocate",
            json={"targetUserId": "user1", "credits": bad},
            headers=bearer(admin),
        )
        assert 400 <= response.status_code < 500, bad
        assert response.json()["message"]
    unknown = accounting.post(
        "/api/credits/allocate",
        json={"targetUserId": "no-such-user-anywhere", "credits": 1},
        headers=bearer(admin),
    )
    assert unknown.status_code == 404
