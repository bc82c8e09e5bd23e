from accounting.ledger.check import find_problems

from ..conftest import allocate, balance, new_user, on_behalf, token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


async def test_spending_draws_from_the_allocation_that_expires_first(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    await allocate(client, admin, user["username"], 10)  # never expires
    late = (await allocate(client, admin, user["username"], 10, expiryDays=30)).json()
    soon = (await allocate(client, admin, user["username"], 10, expiryDays=1)).json()
    held = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 8000},  # holds 11
        headers=on_behalf(user),
    )
    remaining = {
        a["id"]: a["remainingCredits"] for a in (await balance(client, user))["activeAllocations"]
    }
    assert remaining[soon["id"]] == 0
    assert remaining[late["id"]] == 9
    await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": held.json()["streamingSessionId"], "outputTokens": 800},
        headers=on_behalf(user),
    )
    remaining = {
        a["id"]: a["remainingCredits"] for a in (await balance(client, user))["activeAllocations"]
    }
    assert remaining[soon["id"]] == 9  # the 1-credit charge came out of the soonest
    assert remaining[late["id"]] == 10


async def test_expired_credits_stop_counting_and_the_expiry_is_an_entry(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    await allocate(client, admin, user["username"], 5)
    doomed = (await allocate(client, admin, user["username"], 7, expiryDays=1)).json()
    # Time passes: the allocation's expiry moves into the past.
    await db.execute(
        "UPDATE allocations SET expires_at = now() - interval '1 second' WHERE id = $1",
        doomed["id"],
    )
    await db.execute(
        "UPDATE accounts SET next_expiry_at = now() - interval '1 second' WHERE owner_id = $1",
        user["id"],
    )
    after = await balance(client, user)
    assert after["totalCredits"] == 5
    assert [a["id"] for a in after["activeAllocations"]] != [doomed["id"]]
    kinds = await db.fetch(
        "SELECT kind, available_delta FROM ledger_entries WHERE allocation_id = $1 ORDER BY id",
        doomed["id"],
    )
    assert [(k["kind"], k["available_delta"]) for k in kinds] == [
        ("allocation", 7_000_000),
        ("expiry", -7_000_000),
    ]
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_ledger_entries_cannot_be_changed(db):
    import asyncpg
    import pytest

    with pytest.raises(asyncpg.RaiseError, match="immutable"):
        await db.execute("UPDATE ledger_entries SET available_delta = 0")
