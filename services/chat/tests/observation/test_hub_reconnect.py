"""The observers' pub/sub through a Redis restart: redis-py reconnects on the next read and
subscribes again, with chat's client as main.py builds it, without a pause in between."""

import asyncio
import uuid

import redis.asyncio as redis

from chat.config import ChatSettings
from chat.main import redis_client
from chat.observation.hub import ObserverHub
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.keys import observe_channel


async def drop_connections(admin: redis.Redis, name: str) -> int:
    dropped = 0
    for client in await admin.client_list():
        if client.get("name") == name:
            dropped += await admin.client_kill_filter(_id=client["id"])
    return dropped


async def test_an_observer_subscribed_before_a_restart_gets_what_is_published_after(
    redis_url, chat_settings_base
):
    name = f"hub-{uuid.uuid4().hex[:8]}"
    client = redis_client(ChatSettings(**chat_settings_base), client_name=name)
    admin = redis.Redis.from_url(redis_url)
    hub = ObserverHub(client)
    hub.start()
    session_id = str(uuid.uuid4())
    event = StreamEvent("s", 1, "chunk", {"content": "x", "tokenCount": 1})
    try:
        queue = hub.open(session_id)
        await hub.listen(session_id)
        await admin.publish(observe_channel(session_id), f"[{event.to_json()}]")
        assert await asyncio.wait_for(queue.get(), 2) == event

        assert await drop_connections(admin, name) >= 1
        later = StreamEvent("s", 2, "chunk", {"content": "y", "tokenCount": 2})
        started = asyncio.get_running_loop().time()
        # Published until it arrives: the hub is subscribed again only once it has read.
        while queue.empty():
            assert asyncio.get_running_loop().time() - started < 0.8, "not subscribed again"
            await admin.publish(observe_channel(session_id), f"[{later.to_json()}]")
            await asyncio.sleep(0.02)
        assert queue.get_nowait() == later
        await hub.unsubscribe(session_id, queue)
    finally:
        await hub.stop()
        await client.aclose()
        await admin.aclose()
