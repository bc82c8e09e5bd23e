import asyncio

from accounting.ledger.check import find_problems

from ..conftest import balance, bearer, funded_user, new_user, on_behalf

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K tokens


async def reserve(client, user, tokens=1000, model=HAIKU, session="s-1"):
    return await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": session, "modelId": model, "estimatedTokens": tokens},
        headers=on_behalf(user),
    )


async def finalize(client, user, streaming_session_id, path="finalize", **tokens):
    return await client.post(
        f"/api/streaming-sessions/{path}",
        json={"streamingSessionId": streaming_session_id, **tokens},
        headers=on_behalf(user),
    )


async def test_200_concurrent_reservations_against_a_balance_for_50(client, auth, db):
    # Each reservation of 800 tokens holds 800 * 1.25/1K * 1.1 = 1.1 credits.
    user = await funded_user(client, auth, 55)
    responses = await asyncio.gather(*(reserve(client, user, tokens=800) for _ in range(200)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50
    assert statuses.count(402) == 150
    refused = next(r for r in responses if r.status_code == 402).json()
    assert refused["message"] == "Insufficient credits"
    assert refused["code"] == "insufficient_credits"
    after = await balance(client, user)
    assert after["availableCredits"] == 0
    assert after["reservedCredits"] == 55
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_finalize_charges_the_priced_amount_and_releases_the_rest(client, auth, db):
    user = await funded_user(client, auth, 100)
    held = (await reserve(client, user, tokens=1000)).json()
    assert held["allocatedCredits"] == 1.375  # 1000 at 1.25/1K, +10 %
    during = await balance(client, user)
    assert (during["availableCredits"], during["reservedCredits"]) == (98.625, 1.375)
    done = await finalize(
        client, user, held["streamingSessionId"], inputTokens=400, outputTokens=600
    )
    assert done.status_code == 200
    # 400 * 0.25/1K + 600 * 1.25/1K = 0.1 + 0.75
    assert done.json()["usedCredits"] == 0.85
    assert done.json()["refund"] == 0.525
    after = await balance(client, user)
    assert (after["totalCredits"], after["reservedCredits"]) == (99.15, 0)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_a_retried_finalize_charges_once(client, auth):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    first = await finalize(client, user, held["streamingSessionId"], actualTokens=500)
    again = await finalize(client, user, held["streamingSessionId"], actualTokens=900)
    assert first.json() == again.json()
    assert first.json()["usedCredits"] == 0.625
    assert (await balance(client, user))["totalCredits"] == 9.375


async def test_concurrent_finalize_and_abort_settle_once(client, auth, db):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    results = await asyncio.gather(
        finalize(client, user, held["streamingSessionId"], actualTokens=800),
        finalize(client, user, held["streamingSessionId"], path="abort", actualTokens=100),
    )
    bodies = [r.json() for r in results]
    assert bodies[0]["usedCredits"] == bodies[1]["usedCredits"]
    assert bodies[0]["status"] == bodies[1]["status"]
    assert (await balance(client, user))["totalCredits"] == 10 - bodies[0]["usedCredits"]
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_finalize_never_charges_more_than_the_hold(client, auth):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user, tokens=100)).json()
    done = await finalize(client, user, held["streamingSessionId"], actualTokens=1_000_000)
    assert done.json()["usedCredits"] == held["allocatedCredits"]
    assert done.json()["refund"] == 0


async def test_abort_charges_what_was_generated(client, auth):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    aborted = await finalize(
        client, user, held["streamingSessionId"], path="abort", outputTokens=200
    )
    assert aborted.json()["status"] == "aborted"
    assert aborted.json()["usedCredits"] == 0.25


async def test_finalize_by_chat_session_id(client, auth):
    user = await funded_user(client, auth, 10)
    await reserve(client, user, session="chat-42")
    done = await client.post(
        "/api/streaming-sessions/finalize",
        json={"sessionId": "chat-42", "outputTokens": 100},
        headers=on_behalf(user),
    )
    assert done.status_code == 200
    assert done.json()["usedCredits"] == 0.125


async def test_another_users_reservation_is_404(client, auth):
    owner, other = await funded_user(client, auth, 10), await funded_user(client, auth, 10)
    held = (await reserve(client, owner)).json()
    response = await finalize(client, other, held["streamingSessionId"], actualTokens=1)
    assert response.status_code == 404


async def test_a_hold_never_settled_is_released_after_its_expiry(client, auth, app, db):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    await db.execute(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1",
        held["streamingSessionId"],
    )
    assert await app.state.hold_sweeper.sweep_once() >= 1
    after = await balance(client, user)
    assert (after["availableCredits"], after["reservedCredits"]) == (10, 0)
    kinds = await db.fetch(
        "SELECT kind FROM ledger_entries WHERE reservation_id = $1 ORDER BY id",
        held["streamingSessionId"],
    )
    assert [k["kind"] for k in kinds] == ["hold", "hold_expiry"]
    late = await finalize(client, user, held["streamingSessionId"], actualTokens=100)
    assert late.json()["status"] == "expired"
    assert late.json()["usedCredits"] == 0


async def test_active_reservations(client, auth):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    mine = await client.get("/api/streaming-sessions/active", headers=bearer(user["token"]))
    assert [r["streamingSessionId"] for r in mine.json()["reservations"]] == [
        held["streamingSessionId"]
    ]
    everyone = await client.get("/api/streaming-sessions/active/all", headers=bearer(user["token"]))
    assert everyone.status_code == 403


async def test_bad_reservation_requests_are_422(client, auth):
    user = await funded_user(client, auth, 1)
    for body in (
        {"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 0},
        {"sessionId": "s", "modelId": HAIKU, "estimatedTokens": "lots"},
        {"sessionId": "", "modelId": HAIKU, "estimatedTokens": 5},
        {"modelId": HAIKU, "estimatedTokens": 5},
    ):
        response = await client.post(
            "/api/streaming-sessions/initialize", json=body, headers=on_behalf(user)
        )
        assert response.status_code == 422, body
    malformed = await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": "not-a-uuid", "actualTokens": 1},
        headers=on_behalf(user),
    )
    assert malformed.status_code == 422


async def test_a_new_users_first_requests_at_once_make_one_account_and_no_error(client, auth, db):
    user = await new_user(auth)  # its account may not exist yet: the first request makes it
    responses = await asyncio.gather(*(reserve(client, user, tokens=10) for _ in range(30)))
    assert {r.status_code for r in responses} <= {201, 402}, [r.text for r in responses]
    accounts = await db.fetchval(
        "SELECT count(*) FROM accounts WHERE owner_type = 'user' AND owner_id = $1", user["id"]
    )
    assert accounts == 1
