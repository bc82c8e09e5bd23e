"""A replica killed outright mid-answer (``kill -9``): the other replicas end its answer, so
it is stored, charged for what was streamed (once, and not left to the hold's expiry), its
followers and observers get ``answer_lost`` and end, and the active list drops it."""

import asyncio
import json
import math
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as redis
from pymongo import AsyncMongoClient

from chat.config import ChatSettings
from chat.main import create_app as create_chat
from chat.streaming.resume_log.keys import claim_key, info_key
from chat.streaming.resume_log.stream_log import StreamLog
from infra_fixtures.isolation import worker_index
from infra_fixtures.servers import serve_app
from infra_fixtures.sources import with_path

from ..conftest import balance, bearer, funded_user, login, new_session, read_events, text_of

PROMPT = "tell me everything [[sim:tokens-per-second=20]] [[sim:answer-tokens=200]]"

# A chat replica in a process of its own, so that it can be killed; it prints its port.
CHILD = """
import asyncio, json, sys
import uvicorn
from chat.config import ChatSettings
from chat.main import create_app

async def main():
    app = create_app(ChatSettings(**json.loads(sys.argv[1])))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            return
        await asyncio.sleep(0.02)
    print(server.servers[0].sockets[0].getsockname()[1], flush=True)
    await serving

asyncio.run(main())
"""


@pytest_asyncio.fixture(loop_scope="session")
async def own_redis_url(redis_url: str) -> AsyncIterator[str]:
    """A Redis database of this test's own (the workers' are 1 + index, the restart tests'
    10 + index, the recovery tests' 15 - index): only the replicas started here scan it."""
    url = with_path(redis_url, str(13 - worker_index()))
    client = redis.Redis.from_url(url)
    await client.flushdb()
    yield url
    await client.flushdb()
    await client.aclose()


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    """Haiku's price: 0.25 credits per 1K input tokens, 1.25 per 1K output tokens."""
    micro = -(-input_tokens * 250_000 // 1000) + -(-output_tokens * 1_250_000 // 1000)
    return Decimal(micro) / 1_000_000


@asynccontextmanager
async def chat_process(
    settings: dict[str, Any],
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            json.dumps(settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
        )
        try:
            assert process.stdout is not None
            port = await asyncio.wait_for(process.stdout.readline(), 60)
            if not port:
                errors.seek(0)
                pytest.fail(f"the chat process did not start: {errors.read().decode()[-3000:]}")
            yield f"http://127.0.0.1:{int(port)}", process
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


async def what_redis_holds(client: redis.Redis, streaming_session_id: str) -> dict[str, Any]:
    log = StreamLog(client)
    listed = [s for s in await log.listed() if s.streaming_session_id == streaming_session_id]
    return {
        "listed": listed,
        "alive": await log.alive({s.replica for s in listed if s.replica}),
        "claim": await client.get(claim_key(streaming_session_id)),
        "last": await log.last(streaming_session_id),
    }


async def ends(response: httpx.Response) -> list:
    """What a response sends after the events already read: nothing, and then it ends."""
    return await asyncio.wait_for(read_events(response), 5)


async def test_an_answer_whose_replica_is_killed_is_ended_billed_and_followed_to_its_end(
    http, stack, own_redis_url, mongo_url
):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    supervisor = await login(http, stack, "supervisor1")
    before = await balance(http, stack, user)
    settings = {**stack.settings, "redis_url": own_redis_url}
    client = redis.Redis.from_url(own_redis_url)
    try:
        async with serve_app(create_chat(ChatSettings(**settings))) as survivor:
            streaming_session_id, chunks = await a_killed_replicas_answer_is_ended(
                http, client, survivor, settings, user, session, supervisor
            )
    finally:
        await client.aclose()

    messages = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(user["token"])
    )
    answer = messages.json()["messages"][-1]
    assert (answer["role"], answer["status"]) == ("assistant", "lost")
    mongo = AsyncMongoClient(mongo_url)
    try:
        [stored] = await (
            mongo[stack.settings["mongo_database"]]
            .messages.find({"streamingSessionId": streaming_session_id, "role": "assistant"})
            .to_list()
        )
    finally:
        await mongo.close()
    prompt_tokens = math.ceil(len(PROMPT) / 4)
    assert stored["content"] == answer["content"]
    assert stored["tokens"] == {"input": prompt_tokens, "output": chunks} and 3 <= chunks < 200
    # Charged what was streamed, now: the hold is settled, not left to expire.
    after = await balance(http, stack, user)
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
    assert spent == cost(prompt_tokens, chunks)
    assert after["reservedCredits"] == 0


async def a_killed_replicas_answer_is_ended(
    http,
    client: redis.Redis,
    survivor: str,
    settings: dict,
    user: dict,
    session: str,
    supervisor: str,
) -> tuple[str, int]:
    """An answer streams from a replica that is then killed, followed by the user and a
    supervisor on ``survivor``: both get its end from the survivor, and so does a resume
    after it. Returns the answer's stream id and the chunks its log kept."""
    log = StreamLog(client)
    doomed_settings = {
        **settings,
        "replica_ttl_seconds": 1.5,
        "replica_refresh_seconds": 0.3,
        "recovery_interval_seconds": 1,
    }
    async with (
        chat_process(doomed_settings) as (doomed, process),
        http.stream(
            "POST",
            f"{doomed}/api/chat/sessions/{session}/stream",
            json={"message": PROMPT},
            headers=bearer(user["token"]),
        ) as response,
    ):
        first = await read_events(response, stop_after=4)
        streaming_session_id = first[0].data["streamingSessionId"]
        info = await client.hgetall(info_key(streaming_session_id))
        async with (
            http.stream(
                "GET",
                f"{survivor}/api/chat/sessions/{session}/observe",
                headers=bearer(supervisor),
            ) as observing,
            http.stream(
                "GET",
                f"{survivor}/api/chat/sessions/{session}/stream",
                headers={**bearer(user["token"]), "Last-Event-ID": first[-1].id},
            ) as resuming,
        ):
            assert (observing.status_code, resuming.status_code) == (200, 200)
            observed = asyncio.create_task(read_events(observing))
            followed = asyncio.create_task(read_events(resuming))
            await asyncio.sleep(0.5)  # a few more chunks, then the replica dies
            process.kill()
            await process.wait()
            killed_at = asyncio.get_running_loop().time()
            # Off the active list once its key has expired, whatever recovery does.
            while any(s["streamingSessionId"] == streaming_session_id for s in await log.active()):
                assert asyncio.get_running_loop().time() - killed_at < 5
                await asyncio.sleep(0.1)
            try:
                followed_events = await asyncio.wait_for(followed, 20)
                observed_events = await asyncio.wait_for(observed, 20)
            except TimeoutError:
                pytest.fail(f"not ended: {await what_redis_holds(client, streaming_session_id)}")
            assert await ends(resuming) == [] and await ends(observing) == []

    assert info[b"replica"] and int(info[b"promptTokens"]) == math.ceil(len(PROMPT) / 4)
    for events in (followed_events, observed_events):
        assert events[-1].event == "error" and events[-1].data["code"] == "answer_lost"
    # The follower had everything the log kept, with no gap; the observer likewise.
    logged = await log.replay(streaming_session_id)
    streamed = text_of(first + followed_events)
    assert streamed == text_of(logged) and logged[-1].data["code"] == "answer_lost"
    assert observed_events[0].event == "observer"
    assert observed_events[0].data["partialResponse"] + text_of(observed_events) == streamed
    stored = await http.get(
        f"{survivor}/api/chat/sessions/{session}", headers=bearer(user["token"])
    )
    assert stored.json()["messages"][-1]["content"] == streamed
    listed = await http.get(f"{survivor}/api/chat/streams/active", headers=bearer(supervisor))
    assert streaming_session_id not in {s["streamingSessionId"] for s in listed.json()["streams"]}

    # Resumed later it replays to its end; past its end it is over (204).
    url = f"{survivor}/api/chat/sessions/{session}/stream"
    async with http.stream(
        "GET", url, headers={**bearer(user["token"]), "Last-Event-ID": first[1].id}
    ) as response:
        replayed = await asyncio.wait_for(read_events(response), 10)
    assert text_of(first[:2] + replayed) == streamed
    assert replayed[-1].data["code"] == "answer_lost"
    over = await http.get(url, headers={**bearer(user["token"]), "Last-Event-ID": replayed[-1].id})
    assert over.status_code == 204
    # A client ahead of the log (the dead replica sent it chunks it never logged) gets the end
    # as the event after its last, not a 204 nor a silent end.
    ahead = f"{streaming_session_id}:{logged[-1].seq + 3}"
    async with http.stream(
        "GET", url, headers={**bearer(user["token"]), "Last-Event-ID": ahead}
    ) as response:
        assert response.status_code == 200
        caught_up = await asyncio.wait_for(read_events(response), 10)
    assert [(e.event, e.data["code"], e.id) for e in caught_up] == [
        ("error", "answer_lost", f"{streaming_session_id}:{logged[-1].seq + 4}")
    ]
    return streaming_session_id, sum(1 for event in logged if event.event == "chunk")
