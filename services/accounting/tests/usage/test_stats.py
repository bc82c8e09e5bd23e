from ..conftest import bearer, funded_user, on_behalf, token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


async def spend(client, user, output_tokens):
    held = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 2000},
        headers=on_behalf(user),
    )
    await client.post(
        "/api/streaming-sessions/finalize",
        json={
            "streamingSessionId": held.json()["streamingSessionId"],
            "outputTokens": output_tokens,
        },
        headers=on_behalf(user),
    )


async def test_own_and_supervised_stats(client, auth):
    user = await funded_user(client, auth, 10)
    await spend(client, user, 800)
    await spend(client, user, 400)
    own = (await client.get("/api/usage/stats", headers=bearer(user["token"]))).json()
    assert own["totals"] == {
        "credits": 1.5,
        "inputTokens": 0,
        "outputTokens": 1200,
        "tokens": 1200,
        "requests": 2,
    }
    assert own["byModel"][0]["modelId"] == HAIKU
    assert sum(day["requests"] for day in own["byDay"]) == 2
    watched = await client.get(
        f"/api/usage/stats/{user['username']}", headers=bearer(await token(auth, "supervisor1"))
    )
    assert watched.json()["totals"] == own["totals"]
    refused = await client.get(
        f"/api/usage/stats/{user['username']}", headers=bearer(await token(auth, "user2"))
    )
    assert refused.status_code == 403


async def test_system_stats_for_admins_only(client, auth):
    user = await funded_user(client, auth, 10)
    await spend(client, user, 2000)
    admin = await client.get("/api/usage/system-stats", headers=bearer(await token(auth, "admin")))
    body = admin.json()
    assert admin.status_code == 200
    assert body["totals"]["requests"] >= 1
    assert any(u["username"] == user["username"] for u in body["topUsers"])
    assert any(m["modelId"] == HAIKU for m in body["byModel"])
    refused = await client.get("/api/usage/system-stats", headers=bearer(user["token"]))
    assert refused.status_code == 403
