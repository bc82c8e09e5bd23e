"""Idempotency-Key on the POSTs that answer (issue 14): one key, one answer, one charge. A retry,
or a second request at once on any replica, is attached to the answer the key started and gets
it from its first event: from the resume log, then from the stored answer."""

import asyncio
import uuid
from decimal import Decimal

import asyncpg
import redis.asyncio as redis

from chat.streaming.resume_log.keys import events_key

from ..conftest import balance, bearer, funded_user, new_session, read_events, text_of

SLOW = "a slow one [[sim:tokens-per-second=40]] [[sim:answer-tokens=20]]"


async def stream(http, base: str, user: dict, session: str, body: dict | None, key: str | None):
    """(status, headers, events or the JSON body) of a POST .../stream."""
    headers = {**bearer(user["token"]), **({"Idempotency-Key": key} if key else {})}
    async with http.stream(
        "POST", f"{base}/api/chat/sessions/{session}/stream", json=body, headers=headers
    ) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            events = await asyncio.wait_for(read_events(response), 30)
            return response.status_code, response.headers, events
        await response.aread()
        return response.status_code, response.headers, response.json()


async def reservations_of(stack, user: dict) -> int:
    db = await asyncpg.connect(stack.accounting_db)
    try:
        return await db.fetchval("SELECT count(*) FROM reservations WHERE user_id = $1", user["id"])
    finally:
        await db.close()


async def stored_roles(http, stack, user: dict, session: str) -> list[str]:
    response = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}/messages", headers=bearer(user["token"])
    )
    return [m["role"] for m in response.json()["messages"]]


def spent(before: dict, after: dict) -> Decimal:
    return Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))


async def test_two_streams_with_one_key_at_once_on_two_replicas_are_one_answer(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    key, body = str(uuid.uuid4()), {"message": SLOW}
    first, second = await asyncio.gather(
        stream(http, stack.chat, user, session, body, key),
        stream(http, stack.chat_b, user, session, body, key),
    )
    for status, _, events in (first, second):
        assert status == 200, events
        assert events[-1].event == "complete", events[-1]
    assert [e.id for e in first[2]] == [e.id for e in second[2]]  # the same events
    assert text_of(first[2]) == text_of(second[2])
    assert sorted("idempotent-replayed" in s[1] for s in (first, second)) == [False, True]
    assert await reservations_of(stack, user) == 1
    assert await stored_roles(http, stack, user, session) == ["user", "assistant"]
    charged = Decimal(str(first[2][-1].data["creditsUsed"]))
    assert spent(before, await balance(http, stack, user)) == charged


async def test_a_retry_after_the_answer_replays_it_from_the_log_then_from_the_store(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    key, body = str(uuid.uuid4()), {"message": "Tell me about otters"}
    status, headers, events = await stream(http, stack.chat, user, session, body, key)
    assert status == 200 and events[-1].event == "complete"
    before = await balance(http, stack, user)
    status, headers, logged = await stream(http, stack.chat_b, user, session, body, key)
    assert status == 200 and headers["idempotent-replayed"] == "true"
    assert [(e.id, e.event, e.data) for e in logged] == [(e.id, e.event, e.data) for e in events]
    # The resume log lets the answer go: the stored answer is served instead.
    cache = redis.Redis.from_url(stack.settings["redis_url"])
    try:
        await cache.delete(events_key(events[0].data["streamingSessionId"]))
    finally:
        await cache.aclose()
    status, headers, rebuilt = await stream(http, stack.chat, user, session, body, key)
    assert status == 200 and headers["idempotent-replayed"] == "true"
    assert [e.event for e in rebuilt] == ["model", "chunk", "complete"]
    assert text_of(rebuilt) == text_of(events)
    assert rebuilt[-1].data["messageId"] == events[-1].data["messageId"]
    assert await balance(http, stack, user) == before  # nothing charged again
    assert await reservations_of(stack, user) == 1
    assert await stored_roles(http, stack, user, session) == ["user", "assistant"]


async def test_the_same_key_with_another_message_is_422_and_answers_nothing(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    key = str(uuid.uuid4())
    status, _, _ = await stream(http, stack.chat, user, session, {"message": "hello"}, key)
    assert status == 200
    status, _, body = await stream(http, stack.chat, user, session, {"message": "bye"}, key)
    assert (status, body["code"]) == (422, "idempotency_key_reused")
    assert await reservations_of(stack, user) == 1


async def test_a_refused_stream_gives_its_key_up(http, stack):
    user = await funded_user(http, stack, 1)
    session = await new_session(http, stack, user)
    key = str(uuid.uuid4())
    status, _, body = await stream(http, stack.chat, user, session, {"message": ""}, key)
    assert status == 422 and body["code"] != "idempotency_key_reused", body
    # Another body with the key: a new request (its key was not kept), not a 422.
    status, _, events = await stream(http, stack.chat, user, session, {"message": "hi"}, key)
    assert status == 200 and events[-1].event == "complete", events


async def test_resuming_with_last_event_id_ignores_a_key(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    status, _, events = await stream(http, stack.chat, user, session, {"message": "hi"}, None)
    assert status == 200
    headers = {
        **bearer(user["token"]),
        "Idempotency-Key": str(uuid.uuid4()),
        "Last-Event-ID": events[1].id,
    }
    async with http.stream(
        "POST", f"{stack.chat}/api/chat/sessions/{session}/stream", headers=headers
    ) as response:
        rest = await read_events(response)
    assert text_of(events[:2] + rest) == text_of(events)
    assert await reservations_of(stack, user) == 1


async def test_whole_answers_with_one_key_at_once_are_one_answer(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    headers = {**bearer(user["token"]), "Idempotency-Key": str(uuid.uuid4())}
    answers = await asyncio.gather(
        *(
            http.post(
                f"{base}/api/chat/sessions/{session}/messages",
                json={"message": SLOW},
                headers=headers,
            )
            for base in (stack.chat, stack.chat_b, stack.chat)
        )
    )
    assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" in a.headers for a in answers) == 2
    assert await reservations_of(stack, user) == 1
    charged = Decimal(str(answers[0].json()["creditsUsed"]))
    assert spent(before, await balance(http, stack, user)) == charged
    later = await http.post(
        f"{stack.chat_b}/api/chat/sessions/{session}/messages",
        json={"message": SLOW},
        headers=headers,
    )
    assert later.content == answers[0].content
    assert later.headers["idempotent-replayed"] == "true"
    other = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/messages",
        json={"message": "other"},
        headers=headers,
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


async def test_the_answering_routes_document_the_key(http, stack):
    paths = (await http.get(f"{stack.chat}/openapi.json")).json()["paths"]
    for path, success in (
        ("/api/chat/sessions/{session_id}/stream", "200"),
        ("/api/chat/sessions/{session_id}/messages", "200"),
    ):
        operation = paths[path]["post"]
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"], path
