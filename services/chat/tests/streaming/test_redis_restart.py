"""Redis restarted (emptied, every connection dropped) while answers stream: they go on, and
their producers give Redis back their start and every event so far, so the active list, late
observers and resumers see the whole answer; routes answer 503 while Redis is away.

The machine's Redis is shared, so a "restart" is FLUSHDB of a database of this test's own
and CLIENT KILL of the connections to it; an outage is a proxy cut."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest_asyncio
import redis.asyncio as redis

from chat.config import ChatSettings
from chat.main import create_app as create_chat
from chat.streaming.resume_log.stream_log import StreamLog
from infra_fixtures.isolation import worker_index
from infra_fixtures.proxy import TcpProxy
from infra_fixtures.servers import serve_app
from infra_fixtures.sources import with_path

from ..conftest import bearer, funded_user, login, new_session, read_events

SLOW = "go on [[sim:tokens-per-second=20]] [[sim:answer-tokens=80]]"
ADMIN_NAME = "restart-test-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def own_redis(redis_url) -> AsyncIterator[tuple[str, redis.Redis]]:
    """A Redis database of this test's own (past the workers' 1 + index), emptied."""
    url = with_path(redis_url, str(10 + worker_index()))
    admin = redis.Redis.from_url(url, client_name=ADMIN_NAME)
    await admin.flushdb()
    yield url, admin
    await admin.flushdb()
    await admin.aclose()


async def restart(admin: redis.Redis) -> int:
    """Empty the database and drop every connection to it but the test's: what chat sees of
    a Redis restart. How many connections were dropped."""
    database = admin.connection_pool.connection_kwargs["db"]
    await admin.flushdb()
    dropped = 0
    for client in await admin.client_list():
        if int(client["db"]) == database and client.get("name") != ADMIN_NAME:
            dropped += await admin.client_kill_filter(_id=client["id"])
    return dropped


@asynccontextmanager
async def chat_on(stack, redis_url: str) -> AsyncIterator[str]:
    async with serve_app(
        create_chat(ChatSettings(**{**stack.settings, "redis_url": redis_url}))
    ) as url:
        yield url


def seq_of(event) -> int:
    return int(event.id.rsplit(":", 1)[1])


async def until(check, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def test_live_streams_are_given_back_to_redis_after_a_restart(http, stack, own_redis):
    url, admin = own_redis
    async with chat_on(stack, url) as chat, chat_on(stack, url) as other:
        user = await funded_user(http, stack)
        session = await new_session(http, stack, user, base=chat)
        supervisor = bearer(await login(http, stack, "supervisor1"))

        async def listed() -> list[str]:
            response = await http.get(f"{chat}/api/chat/streams/active", headers=supervisor)
            assert response.status_code == 200, response.text  # a stale connection is retried
            return [s["streamingSessionId"] for s in response.json()["streams"]]

        # Observed on the other replica: what it gets comes through Redis pub/sub.
        async with (
            http.stream(
                "GET", f"{other}/api/chat/sessions/{session}/observe", headers=supervisor
            ) as observer,
            http.stream(
                "POST",
                f"{chat}/api/chat/sessions/{session}/stream",
                json={"message": SLOW},
                headers=bearer(user["token"]),
            ) as answer,
        ):
            assert (await read_events(observer, stop_after=1))[0].event == "observer"
            before = await read_events(answer, stop_after=6)
            streaming_session_id = before[0].data["streamingSessionId"]
            seen_before = await read_events(observer, stop_after=2)
            assert {e.event for e in seen_before} == {"chunk"}
            assert streaming_session_id in await until(listed)

            assert await restart(admin) >= 3  # both replicas' pools and pub/sub, the batcher
            assert streaming_session_id in await until(listed)  # rewritten, while still streaming
            rest = await asyncio.wait_for(read_events(answer), 15)
            seen_after = await asyncio.wait_for(read_events(observer), 15)

    events = before + rest
    assert events[-1].event == "complete"
    assert [seq_of(e) for e in events] == list(range(1, len(events) + 1))
    # The log holds exactly what the user got, from seq 1: a late resumer misses nothing.
    logged = await StreamLog(admin).replay(streaming_session_id)
    assert [(e.seq, e.event, e.data) for e in logged] == [
        (seq_of(e), e.event, e.data) for e in events
    ]
    # The observer subscribed before the restart goes on after it.
    assert seen_after[-1].event == "complete"
    assert min(seq_of(e) for e in seen_after) > max(seq_of(e) for e in seen_before)


async def test_routes_answer_503_while_redis_is_away_and_200_once_it_is_back(
    http, stack, own_redis
):
    url, _ = own_redis
    target = urlsplit(url)
    async with TcpProxy(target.hostname, target.port or 6379) as proxy:
        proxied = f"redis://127.0.0.1:{proxy.port}{target.path}"
        async with chat_on(stack, proxied) as chat:
            supervisor = bearer(await login(http, stack, "supervisor1"))
            active = f"{chat}/api/chat/streams/active"
            assert (await http.get(active, headers=supervisor)).status_code == 200
            await proxy.cut()
            started = asyncio.get_running_loop().time()
            response = await http.get(active, headers=supervisor)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "redis_unavailable"
            assert asyncio.get_running_loop().time() - started < 2
            await proxy.restore()
            assert (await http.get(active, headers=supervisor)).status_code == 200
