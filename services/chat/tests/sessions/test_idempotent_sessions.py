"""Idempotency-Key on POST /api/chat/sessions (issue 14), kept in chat's MongoDB: one session per
key, the first answer again to a retry, and a key whose holder died taken over without a second
session."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from pymongo import AsyncMongoClient

from ..conftest import bearer, funded_user

SESSIONS = "/api/chat/sessions"


async def create(http, base: str, user: dict, body: dict, key: str):
    headers = {**bearer(user["token"]), "Idempotency-Key": key}
    return await http.post(f"{base}{SESSIONS}", json=body, headers=headers)


async def session_count(http, stack, user: dict) -> int:
    listed = await http.get(f"{stack.chat}{SESSIONS}", headers=bearer(user["token"]))
    return listed.json()["pagination"]["total"]


def keys_collection(stack):
    client = AsyncMongoClient(stack.settings["mongo_url"], tz_aware=True)
    return client, client[stack.settings["mongo_database"]].idempotency_keys


async def test_a_retried_session_is_made_once_and_answered_again(http, stack):
    user = await funded_user(http, stack)
    key, body = str(uuid.uuid4()), {"title": "once", "initialMessage": "hello"}
    first = await create(http, stack.chat, user, body, key)
    again = await create(http, stack.chat_b, user, body, key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await session_count(http, stack, user) == 1
    reused = await create(http, stack.chat, user, {**body, "title": "twice"}, key)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert await session_count(http, stack, user) == 1


async def test_concurrent_creations_with_one_key_make_one_session(http, stack):
    user = await funded_user(http, stack)
    key, body = str(uuid.uuid4()), {"title": "race"}
    answers = await asyncio.gather(
        *(create(http, base, user, body, key) for base in (stack.chat, stack.chat_b) * 2)
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert await session_count(http, stack, user) == 1


async def test_keys_are_per_caller(http, stack):
    first, second = await funded_user(http, stack), await funded_user(http, stack)
    key = str(uuid.uuid4())
    mine = await create(http, stack.chat, first, {"title": "a"}, key)
    theirs = await create(http, stack.chat, second, {"title": "a"}, key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["sessionId"] != theirs.json()["sessionId"]


async def test_a_refused_creation_gives_its_key_up(http, stack):
    poor = await funded_user(http, stack, 0)
    key = str(uuid.uuid4())
    refused = await create(http, stack.chat, poor, {"title": "a"}, key)
    assert (refused.status_code, refused.json()["code"]) == (402, "insufficient_credits")
    client, keys = keys_collection(stack)
    try:
        assert await keys.find_one({"caller": poor["id"], "key": key}) is None
    finally:
        await client.close()


async def test_a_key_whose_holder_died_is_taken_over_under_the_same_session_id(http, stack):
    user = await funded_user(http, stack)
    key, body = str(uuid.uuid4()), {"title": "orphan"}
    first = await create(http, stack.chat, user, body, key)
    assert first.status_code == 201
    client, keys = keys_collection(stack)
    try:
        # As if the request had died after making the session, before keeping its answer.
        past = datetime.now(UTC) - timedelta(seconds=1)
        await keys.update_one(
            {"caller": user["id"], "key": key},
            {"$set": {"statusCode": None, "body": None, "leaseUntil": past}},
        )
        document = await keys.find_one({"caller": user["id"], "key": key})
        assert document["workId"] == first.json()["sessionId"]
        retried = await create(http, stack.chat_b, user, body, key)
        assert retried.status_code == 201, retried.text
        assert retried.json()["sessionId"] == first.json()["sessionId"]
        assert await session_count(http, stack, user) == 1
        # Its lease still running, a holder is waited for, then 409.
        await keys.update_one(
            {"caller": user["id"], "key": key},
            {
                "$set": {
                    "statusCode": None,
                    "body": None,
                    "leaseUntil": datetime.now(UTC) + timedelta(minutes=5),
                }
            },
        )
        store = stack.chat_app.state.idempotency_keys
        waited, store.wait = store.wait, timedelta(seconds=0.3)
        try:
            busy = await create(http, stack.chat, user, body, key)
        finally:
            store.wait = waited
        assert (busy.status_code, busy.json()["code"]) == (409, "idempotency_key_in_progress")
    finally:
        await client.close()


async def test_keys_expire_with_a_ttl_index_and_an_expired_one_is_new(http, stack):
    user = await funded_user(http, stack)
    key = str(uuid.uuid4())
    assert (await create(http, stack.chat, user, {"title": "a"}, key)).status_code == 201
    client, keys = keys_collection(stack)
    try:
        indexes = await keys.index_information()
        ttl = [i for i in indexes.values() if "expireAfterSeconds" in i]
        assert [(i["key"], i["expireAfterSeconds"]) for i in ttl] == [([("expiresAt", 1)], 0)]
        assert any(
            i.get("unique") and i["key"] == [("caller", 1), ("key", 1)] for i in indexes.values()
        )
        document = await keys.find_one({"caller": user["id"], "key": key})
        lifetime = document["expiresAt"] - document["createdAt"]
        assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)
        # Past its 24 h (not yet swept by MongoDB): the key is new again.
        await keys.update_one(
            {"_id": document["_id"]},
            {"$set": {"expiresAt": datetime.now(UTC) - timedelta(seconds=1)}},
        )
    finally:
        await client.close()
    fresh = await create(http, stack.chat, user, {"title": "b"}, key)
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers
    assert await session_count(http, stack, user) == 2


async def test_the_key_is_documented(http, stack):
    operation = (await http.get(f"{stack.chat}/openapi.json")).json()["paths"][SESSIONS]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header"
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
