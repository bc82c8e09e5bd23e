"""Last-Event-ID resumes only an answer of that session and its owner, on any replica, live or
over; anything else gets the answer an unknown stream gets, and a malformed id is a 400. A
resume the log can no longer serve without a gap ends with ``resume_gap``, never a skip."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis
from pymongo import AsyncMongoClient

from chat.streaming.resume_log.keys import events_key

from ..conftest import bearer, funded_user, new_session, read_events, text_of

SLOW = "a long one [[sim:tokens-per-second=20]] [[sim:answer-tokens=40]]"


async def resume(http, base: str, user: dict, session: str, last_event_id: str):
    """A GET resume: (status, events or JSON body), the body read whole."""
    async with http.stream(
        "GET",
        f"{base}/api/chat/sessions/{session}/stream",
        headers={**bearer(user["token"]), "Last-Event-ID": last_event_id},
    ) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, await asyncio.wait_for(read_events(response), 15)
        await response.aread()
        return response.status_code, response.json() if response.content else None


async def test_another_users_stream_is_not_replayed_live_or_over_on_any_replica(http, stack):
    owner, intruder = await funded_user(http, stack), await funded_user(http, stack)
    session = await new_session(http, stack, owner)
    own = await new_session(http, stack, intruder)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": SLOW},
        headers=bearer(owner["token"]),
    ) as response:
        first = await read_events(response, stop_after=3)
        stolen = first[-1].id
        await asyncio.sleep(0.2)  # in Redis by now, for the other replica
        # Live: produced on `chat`, known to `chat_b` through Redis only.
        live = [
            await resume(http, base, intruder, own, stolen) for base in (stack.chat, stack.chat_b)
        ]
        # Through the owner's session it is the owner's session that is not found.
        theirs = await resume(http, stack.chat_b, intruder, session, stolen)
        rest = await read_events(response)
    assert rest[-1].event == "complete"
    # Over: the log is still kept (the resume window), the producer gone.
    over = [await resume(http, base, intruder, own, stolen) for base in (stack.chat, stack.chat_b)]
    for status, body in live + over:
        assert status == 410 and body["code"] == "stream_expired", body
    assert theirs[0] == 404 and theirs[1]["code"] == "not_found"
    # The owner still resumes it, from where they were.
    status, events = await resume(http, stack.chat_b, owner, session, stolen)
    assert status == 200
    assert text_of(first + events) == text_of(first + rest)


async def test_a_stream_of_another_session_of_the_same_user_is_not_replayed(http, stack):
    user = await funded_user(http, stack)
    asked, other = await new_session(http, stack, user), await new_session(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{asked}/stream",
        json={"message": SLOW},
        headers=bearer(user["token"]),
    ) as response:
        first = await read_events(response, stop_after=2)
        await asyncio.sleep(0.2)
        live = [
            await resume(http, base, user, other, first[-1].id)
            for base in (stack.chat, stack.chat_b)
        ]
        await read_events(response)
    over = [
        await resume(http, base, user, other, first[-1].id) for base in (stack.chat, stack.chat_b)
    ]
    for status, body in live + over:
        assert status == 410 and body["code"] == "stream_expired", body


async def test_an_own_live_stream_resumes_on_the_other_replica(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": SLOW},
        headers=bearer(user["token"]),
    ) as response:
        first = await read_events(response, stop_after=3)
    await asyncio.sleep(0.2)
    status, rest = await resume(http, stack.chat_b, user, session, first[-1].id)
    assert status == 200
    seqs = [int(e.id.rsplit(":", 1)[1]) for e in first + rest]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest[-1].event == "complete"


@pytest.mark.parametrize(
    "suffix",
    [
        ":" + "9" * 25,  # today: 200, then the response aborted (Redis refuses the id)
        ":" + "7" * 5000,  # today: 500 (past Python's int conversion limit)
        ":-1",
        ":1.5",
        ":\u00b2",  # a digit to str.isdigit, not to int()
        ":",
        "",  # no seq at all
        ":3:4",
    ],
)
async def test_a_malformed_last_event_id_is_400(http, stack, suffix):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "quick"},
        headers=bearer(user["token"]),
    ) as response:
        events = await read_events(response)
    streaming_session_id = events[0].data["streamingSessionId"]
    for value in (f"{streaming_session_id}{suffix}", f"garbage{suffix}"):
        for method in ("GET", "POST"):
            response = await http.request(
                method,
                f"{stack.chat}/api/chat/sessions/{session}/stream",
                headers={**bearer(user["token"]), "Last-Event-ID": value.encode()},
            )
            assert response.status_code == 400, (value[:40], method, response.text[:200])
            assert response.json()["code"] == "validation_error"
            assert "Last-Event-ID" in response.json()["message"]


async def test_an_empty_last_event_id_asks_anew(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with http.stream(
        "GET",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        params={"message": "fresh"},
        headers={**bearer(user["token"]), "Last-Event-ID": ""},
    ) as response:
        assert response.status_code == 200
        events = await read_events(response)
    assert [events[0].event, events[-1].event] == ["model", "complete"]


async def test_resuming_an_answer_already_received_whole_is_204_and_one_past_its_end_ends(
    http, stack
):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    url = f"{stack.chat}/api/chat/sessions/{session}/stream"
    async with http.stream(
        "POST", url, json={"message": SLOW}, headers=bearer(user["token"])
    ) as response:
        first = await read_events(response, stop_after=2)
        streaming_session_id = first[0].data["streamingSessionId"]
        # A seq the answer has not reached (nor will), here and on the other replica: the
        # resumed stream ends with the answer, empty.
        beyond = await asyncio.gather(
            *(
                resume(http, base, user, session, f"{streaming_session_id}:{10**17}")
                for base in (stack.chat, stack.chat_b)
            )
        )
        rest = await read_events(response)
    assert beyond == [(200, []), (200, [])]
    for base in (stack.chat, stack.chat_b):
        for seen in (rest[-1].id, f"{streaming_session_id}:{10**17}"):
            status, body = await resume(http, base, user, session, seen)
            assert (status, body) == (204, None), (base, seen, body)


async def logged_until(client, streaming_session_id: str, count: int) -> None:
    """Wait until the answer's log has ``count`` events."""
    async with asyncio.timeout(10):
        while await client.xlen(events_key(streaming_session_id)) < count:
            await asyncio.sleep(0.05)


async def forget(client, streaming_session_id: str, seqs: range) -> None:
    """What a Redis restart does to a log: some of its events are no longer there."""
    await client.xdel(events_key(streaming_session_id), *(f"0-{seq}" for seq in seqs))


def gap_only(events) -> bool:
    return [(e.event, e.data["code"]) for e in events] == [("error", "resume_gap")]


async def test_a_resume_past_events_the_log_lost_is_a_resume_gap_error_not_a_skip(
    http, stack, redis_url
):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "quick"},
        headers=bearer(user["token"]),
    ) as response:
        events = await read_events(response)
    streaming_session_id = events[0].data["streamingSessionId"]
    client = redis.Redis.from_url(redis_url)
    try:
        await forget(client, streaming_session_id, range(6, 21))
    finally:
        await client.aclose()
    for base in (stack.chat, stack.chat_b):
        status, resumed = await resume(http, base, user, session, f"{streaming_session_id}:5")
        assert status == 200 and gap_only(resumed), (base, resumed)
        # Its id is the last event the client has: a resume from there meets the same gap.
        assert resumed[0].id == f"{streaming_session_id}:5"
        # Past the gap it resumes as ever.
        status, rest = await resume(http, base, user, session, f"{streaming_session_id}:20")
        assert status == 200 and text_of(rest) == text_of(events[20:])


async def test_a_live_answer_resumed_past_lost_events_is_a_resume_gap_on_any_replica(
    http, stack, redis_url
):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    client = redis.Redis.from_url(redis_url)
    try:
        async with http.stream(
            "POST",
            f"{stack.chat}/api/chat/sessions/{session}/stream",
            json={"message": SLOW},
            headers=bearer(user["token"]),
        ) as response:
            first = await read_events(response, stop_after=3)
            streaming_session_id = first[0].data["streamingSessionId"]
            await logged_until(client, streaming_session_id, 12)
            await forget(client, streaming_session_id, range(4, 11))
            # Served here from the producer and its log; there from the log alone.
            resumed = await asyncio.gather(
                *(
                    resume(http, base, user, session, first[-1].id)
                    for base in (stack.chat, stack.chat_b)
                )
            )
            rest = await read_events(response)
    finally:
        await client.aclose()
    assert rest[-1].event == "complete"
    for status, events in resumed:
        assert status == 200 and gap_only(events), events


async def test_a_live_answer_whose_whole_log_redis_lost_is_a_gap_not_ask_again(http, stack):
    """Redis restarted under an answer another replica produces: its log and owner are gone,
    its question is stored and its answer not yet. A 410 would tell the client to ask (and pay)
    again for an answer still being made; it gets ``resume_gap`` instead, until the answer is
    stored or could no longer be running."""
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    streaming_session_id = str(uuid.uuid4())
    mongo = AsyncMongoClient(stack.settings["mongo_url"])
    messages = mongo[stack.settings["mongo_database"]].messages
    question = {
        "_id": str(uuid.uuid4()),
        "sessionId": session,
        "userId": user["id"],
        "role": "user",
        "content": "asked on a replica whose log Redis lost",
        "streamingSessionId": streaming_session_id,
        "createdAt": datetime.now(UTC),
    }
    try:
        await messages.insert_one(question)
        status, events = await resume(
            http, stack.chat_b, user, session, f"{streaming_session_id}:3"
        )
        assert status == 200 and gap_only(events), events
        # Older than an answer may run: no longer kept.
        long_ago = datetime.now(UTC) - timedelta(
            seconds=stack.settings.get("stream_max_seconds", 600) + 60
        )
        await messages.update_one({"_id": question["_id"]}, {"$set": {"createdAt": long_ago}})
        status, body = await resume(http, stack.chat_b, user, session, f"{streaming_session_id}:3")
        assert status == 410 and body["code"] == "stream_expired", body
    finally:
        await messages.delete_one({"_id": question["_id"]})
        await mongo.close()
