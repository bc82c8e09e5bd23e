"""Owners with a known balance, and balances read back from accounting."""

import uuid

import httpx

from ..conftest import DEFAULT_PLAN_CREDITS, eventually, login, new_user, service_headers

INTERNAL = service_headers()


async def available(accounting: httpx.AsyncClient, user: dict):
    """The user's own available credits."""
    response = await accounting.get("/api/credits/balance", headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()["availableCredits"]


async def account_credits(accounting: httpx.AsyncClient, account_id: str):
    """An account's available credits (a team's)."""
    response = await accounting.get(f"/internal/accounts/{account_id}", headers=INTERNAL)
    assert response.status_code == 200, response.text
    return response.json()["availableCredits"]


async def owner_with(auth: httpx.AsyncClient, accounting: httpx.AsyncClient, credits) -> dict:
    """A new user holding exactly ``credits``. The default plan's grant arrives on its own
    (bus, grant worker), so it is waited for first: it must not land in the middle of a test."""
    user = await new_user(auth)

    async def granted():
        return await available(accounting, user) == DEFAULT_PLAN_CREDITS

    assert await eventually(granted), "the default plan's grant never arrived"
    if credits > DEFAULT_PLAN_CREDITS:
        response = await accounting.post(
            "/api/credits/allocate",
            json={"targetUserId": user["id"], "credits": credits - DEFAULT_PLAN_CREDITS},
            headers=await login(auth, "admin"),
        )
        assert response.status_code == 201, response.text
    elif credits < DEFAULT_PLAN_CREDITS:
        response = await accounting.post(
            "/internal/transfers",
            json={
                "fromOwnerType": "user",
                "fromOwnerId": user["id"],
                "toOwnerType": "team",
                "toOwnerId": f"sink-{uuid.uuid4()}",
                "credits": DEFAULT_PLAN_CREDITS - credits,
                "idempotencyKey": f"test-sink:{uuid.uuid4()}",
                "requestedBy": "tests",
            },
            headers=INTERNAL,
        )
        assert response.status_code == 201, response.text
    assert await available(accounting, user) == credits
    return user
