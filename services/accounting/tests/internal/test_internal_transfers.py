"""/internal/transfers: credits move from an owner's balance to another account, never made."""

import asyncio
import uuid

from accounting.ledger.check import find_problems

from ..conftest import balance, funded_user, new_user, signed_service_headers

INTERNAL = signed_service_headers("provisioning")


def from_user(user: dict, credits, key: str | None = None, **target) -> dict:
    target = target or {"toOwnerType": "team", "toOwnerId": f"team-{uuid.uuid4()}"}
    return {
        "fromOwnerType": "user",
        "fromOwnerId": user["id"],
        **target,
        "credits": credits,
        "idempotencyKey": f"test:{uuid.uuid4()}" if key is None else key,
        "requestedBy": user["id"],
    }


async def transfer(client, body: dict):
    return await client.post("/internal/transfers", json=body, headers=INTERNAL)


async def available(client, account_id: str):
    response = await client.get(f"/internal/accounts/{account_id}", headers=INTERNAL)
    assert response.status_code == 200, response.text
    return response.json()["availableCredits"]


async def test_a_transfer_moves_credits_from_the_owner_to_the_target(client, auth, db):
    user = await funded_user(client, auth, 10)
    team = f"team-{uuid.uuid4()}"
    response = await transfer(client, from_user(user, 4, toOwnerType="team", toOwnerId=team))
    assert response.status_code == 201, response.text
    moved = response.json()
    assert (moved["credits"], moved["fromAvailableCredits"], moved["toAvailableCredits"]) == (
        4,
        6,
        4,
    )
    assert moved["applied"] is True
    assert (await balance(client, user))["availableCredits"] == 6
    assert await available(client, moved["toAccountId"]) == 4
    entries = await db.fetch(
        "SELECT account_id, kind, available_delta, held_delta FROM ledger_entries "
        "WHERE transfer_id = $1 ORDER BY id",
        uuid.UUID(moved["transferId"]),
    )
    assert [(e["kind"], e["available_delta"], e["held_delta"]) for e in entries] == [
        ("transfer_out", -4_000_000, 0),
        ("transfer_in", 4_000_000, 0),
    ]
    assert str(entries[1]["account_id"]) == moved["toAccountId"]
    again = await transfer(client, from_user(user, "1.5", toAccountId=moved["toAccountId"]))
    assert again.status_code == 201, again.text
    assert again.json()["toAvailableCredits"] == 5.5
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_short_of_credits_is_402_and_changes_nothing(client, auth, db):
    user = await funded_user(client, auth, 10)
    team = f"team-{uuid.uuid4()}"
    response = await transfer(
        client, from_user(user, "10.000001", toOwnerType="team", toOwnerId=team)
    )
    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")
    assert response.json()["details"] == {"availableCredits": 10, "requiredCredits": 10.000001}
    assert (await balance(client, user))["availableCredits"] == 10
    # The team's account is made in the transfer's transaction: refused, it is not made.
    assert await db.fetchval("SELECT count(*) FROM accounts WHERE owner_id = $1", team) == 0
    penniless = await new_user(auth)
    refused = await transfer(client, from_user(penniless, 999999))
    assert (refused.status_code, refused.json()["code"]) == (402, "insufficient_credits")


async def test_one_key_moves_credits_once(client, auth, db):
    user = await funded_user(client, auth, 10)
    body = from_user(user, 3)
    first, again = await transfer(client, body), await transfer(client, body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["applied"] is False
    assert again.json()["transferId"] == first.json()["transferId"]
    assert again.json()["credits"] == 3
    assert (await balance(client, user))["availableCredits"] == 7
    other_amount = await transfer(client, {**body, "credits": 2})
    other_target = await transfer(client, {**body, "toOwnerId": f"team-{uuid.uuid4()}"})
    for reused in (other_amount, other_target):
        assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert (await balance(client, user))["availableCredits"] == 7
    racing = from_user(user, 1)
    responses = await asyncio.gather(*(transfer(client, racing) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert (await balance(client, user))["availableCredits"] == 6
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_concurrent_transfers_racing_for_the_last_credit_one_wins(client, auth, db):
    user = await funded_user(client, auth, 1)
    team = f"team-{uuid.uuid4()}"
    bodies = [from_user(user, 1, toOwnerType="team", toOwnerId=team) for _ in range(10)]
    responses = await asyncio.gather(*(transfer(client, body) for body in bodies))
    assert sorted(r.status_code for r in responses) == [201] + [402] * 9
    (won,) = [r.json() for r in responses if r.status_code == 201]
    assert (await balance(client, user))["availableCredits"] == 0
    assert await available(client, won["toAccountId"]) == 1
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_bad_transfers_are_refused_with_clear_errors(client, auth):
    user = await funded_user(client, auth, 5)
    own = await client.post(
        "/internal/accounts", json={"ownerType": "user", "ownerId": user["id"]}, headers=INTERNAL
    )
    to_self = from_user(user, 1, toAccountId=own.json()["accountId"])
    unknown = from_user(user, 1, toAccountId=str(uuid.uuid4()))
    both = {**from_user(user, 1), "toAccountId": own.json()["accountId"]}
    neither = {k: v for k, v in from_user(user, 1).items() if not k.startswith("to")}
    half = {k: v for k, v in from_user(user, 1).items() if k != "toOwnerId"}
    for body, status, code in [
        (to_self, 400, "same_account"),
        (unknown, 404, "not_found"),
        (both, 422, "validation_error"),
        (neither, 422, "validation_error"),
        (half, 422, "validation_error"),
        (from_user(user, 0), 422, "validation_error"),
        (from_user(user, "0.0000001"), 422, "validation_error"),
        (from_user(user, 1, key=""), 422, "validation_error"),
    ]:
        response = await transfer(client, body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert (await balance(client, user))["availableCredits"] == 5


async def test_transfers_need_a_service_token(client, auth):
    user = await funded_user(client, auth, 5)
    response = await client.post("/internal/transfers", json=from_user(user, 1))
    assert response.status_code == 401
    assert (await balance(client, user))["availableCredits"] == 5


async def test_a_grant_key_reused_for_another_amount_is_refused(client):
    team, key = f"team-{uuid.uuid4()}", f"grant:{uuid.uuid4()}"
    body = {
        "ownerType": "team",
        "ownerId": team,
        "credits": 5,
        "idempotencyKey": key,
        "grantedBy": "admin",
    }
    assert (await client.post("/internal/grants", json=body, headers=INTERNAL)).status_code == 201
    reused = await client.post("/internal/grants", json={**body, "credits": 6}, headers=INTERNAL)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
