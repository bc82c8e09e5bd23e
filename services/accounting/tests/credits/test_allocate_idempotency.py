"""POST /api/credits/allocate with an Idempotency-Key: credits move once per key and body."""

import asyncio
import uuid

from ..conftest import balance, bearer, new_user, token


async def allocate_with_key(client, admin_token, body, idempotency_key):
    headers = {**bearer(admin_token), "Idempotency-Key": idempotency_key}
    return await client.post("/api/credits/allocate", json=body, headers=headers)


async def test_a_retried_allocation_moves_credits_once_and_replays_the_answer(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    key = str(uuid.uuid4())
    body = {"targetUserId": user["id"], "credits": 25, "notes": "retry me"}
    first = await allocate_with_key(client, admin, body, key)
    second = await allocate_with_key(client, admin, body, key)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await balance(client, user))["totalCredits"] == 25
    # One allocation and one audit event: the replay wrote nothing.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM allocations a JOIN accounts c ON c.id = a.account_id "
            "WHERE c.owner_id = $1",
            user["id"],
        )
        == 1
    )


async def test_the_same_key_with_another_body_is_422_and_moves_nothing(client, auth):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    key = str(uuid.uuid4())
    body = {"targetUserId": user["id"], "credits": 10}
    assert (await allocate_with_key(client, admin, body, key)).status_code == 201
    reused = await allocate_with_key(client, admin, {**body, "credits": 11}, key)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert (await balance(client, user))["totalCredits"] == 10


async def test_concurrent_retries_allocate_once(client, auth):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    key = str(uuid.uuid4())
    body = {"targetUserId": user["id"], "credits": 3}
    answers = await asyncio.gather(*(allocate_with_key(client, admin, body, key) for _ in range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.content for a in answers}) == 1
    assert (await balance(client, user))["totalCredits"] == 3


async def test_a_key_over_255_characters_is_422(client, auth):
    user = await new_user(auth)
    body = {"targetUserId": user["id"], "credits": 1}
    response = await allocate_with_key(client, await token(auth, "admin"), body, "k" * 256)
    assert response.status_code == 422
    assert (await balance(client, user))["totalCredits"] == 0


async def test_the_header_and_its_answers_are_documented(client):
    operation = (await client.get("/openapi.json")).json()["paths"]["/api/credits/allocate"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header"
    assert header["schema"]["anyOf"][0]["maxLength"] == 255
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    assert "409" in operation["responses"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
