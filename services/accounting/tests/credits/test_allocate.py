import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import allocate, balance, bearer, eventually, new_user, token


async def test_admin_allocates_by_username_with_expiry_and_the_user_sees_it(client, auth):
    user = await new_user(auth)
    response = await allocate(
        client, await token(auth, "admin"), user["username"], 1000, expiryDays=30, notes="welcome"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["userId"] == user["id"]
    assert body["credits"] == 1000
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    seen = await balance(client, user)
    assert seen["totalCredits"] == 1000
    assert seen["availableCredits"] == 1000
    assert seen["reservedCredits"] == 0
    assert seen["activeAllocations"][0]["notes"] == "welcome"
    assert seen["activeAllocations"][0]["remainingCredits"] == 1000


async def test_allocation_by_user_id_and_decimal_credits(client, auth):
    user = await new_user(auth)
    response = await allocate(client, await token(auth, "admin"), user["id"], "0.123456")
    assert response.status_code == 201
    assert (await balance(client, user))["totalCredits"] == 0.123456


async def test_registration_creates_the_account_through_the_bus(client, auth, db):
    user = await new_user(auth)

    async def account_exists():
        return await db.fetchval("SELECT count(*) FROM accounts WHERE owner_id = $1", user["id"])

    assert await eventually(account_exists) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"credits": 0}, 422),
        ({"credits": -10}, 422),
        ({"credits": "ten"}, 422),
        ({"credits": "1.0000001"}, 422),
        ({"credits": 10**12}, 422),
        ({"credits": 5, "expiryDays": 0}, 422),
        ({"credits": 5, "expiresAt": "2001-01-01T00:00:00Z"}, 400),
        ({"credits": 5, "surprise": 1}, 422),
    ],
)
async def test_bad_allocations_get_a_clear_4xx(client, auth, body, status):
    response = await client.post(
        "/api/credits/allocate",
        json={"targetUserId": "user1", **body},
        headers=bearer(await token(auth, "admin")),
    )
    assert response.status_code == status, response.text
    assert response.json()["message"]


async def test_unknown_user_is_404(client, auth):
    admin = await token(auth, "admin")
    for target in ("nobody-by-that-name", str(uuid.uuid4())):
        response = await allocate(client, admin, target, 5)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_an_account_cannot_exceed_the_balance_cap(client, auth):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    assert (await allocate(client, admin, user["username"], 999_999_999)).status_code == 201
    over = await allocate(client, admin, user["username"], 1)
    assert over.status_code == 400
    assert over.json()["code"] == "balance_limit"


async def test_an_enduser_cannot_allocate(client, auth):
    response = await allocate(client, await token(auth, "user1"), "user1", 5)
    assert response.status_code == 403


async def test_a_supervisor_reads_another_users_balance_and_an_enduser_cannot(client, auth):
    user = await new_user(auth)
    await allocate(client, await token(auth, "admin"), user["username"], 42)
    supervisor = await client.get(
        f"/api/credits/balance/{user['username']}", headers=bearer(await token(auth, "supervisor1"))
    )
    assert supervisor.status_code == 200
    assert supervisor.json()["totalCredits"] == 42
    enduser = await client.get(
        f"/api/credits/balance/{user['username']}", headers=bearer(await token(auth, "user2"))
    )
    assert enduser.status_code == 403


async def test_without_a_token_it_is_401(client):
    response = await client.get("/api/credits/balance")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid authentication token", "code": "invalid_token"}


async def test_check_and_calculate(client, auth):
    user = await new_user(auth)
    await allocate(client, await token(auth, "admin"), user["username"], 10)
    model = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K
    calc = await client.post(
        "/api/credits/calculate",
        json={"modelId": model, "inputTokens": 1000, "outputTokens": 2000},
        headers=bearer(user["token"]),
    )
    assert calc.json()["credits"] == 2.75
    enough = await client.post(
        "/api/credits/check", json={"credits": 10}, headers=bearer(user["token"])
    )
    assert enough.json() == {"sufficient": True, "availableCredits": 10, "requiredCredits": 10}
    too_much = await client.get(
        "/api/credits/check",
        params={"modelId": model, "estimatedTokens": 8000},
        headers=bearer(user["token"]),
    )
    # 8000 tokens at 1.25/1K = 10, plus the 10% margin = 11 > 10
    assert too_much.json() == {"sufficient": False, "availableCredits": 10, "requiredCredits": 11}
    missing = await client.get("/api/credits/check", headers=bearer(user["token"]))
    assert missing.status_code == 422


async def test_allocation_by_id_before_the_account_exists_asks_auth(client, auth, db):
    user = await new_user(auth)
    # As if user.registered had not arrived yet.
    await db.execute("DELETE FROM accounts WHERE owner_id = $1", user["id"])
    response = await allocate(client, await token(auth, "admin"), user["id"], 3)
    assert response.status_code == 201, response.text
    assert response.json()["userId"] == user["id"]
