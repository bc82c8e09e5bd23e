"""The observer hub's own failure path: Redis unreachable when an observer subscribes."""

import pytest
import redis.asyncio as redis

from chat.observation.hub import ObserverHub
from chat.streaming.events import StreamEvent


async def test_a_failed_subscription_is_retried_by_the_next_observer_and_leaves_no_queue():
    client = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=1)
    hub = ObserverHub(client)
    try:
        queue = hub.open("s-1")
        hub.deliver("s-1", [StreamEvent("a", 1, "chunk", {"content": "x"})])
        assert queue.qsize() == 1  # local events reach it before any subscription
        with pytest.raises(redis.RedisError):
            await hub.listen("s-1")
        assert "s-1" not in hub._listening  # the failure is not kept for the next observer
        await hub.unsubscribe("s-1", queue)
        hub.deliver("s-1", [StreamEvent("a", 2, "chunk", {"content": "y"})])
        assert queue.qsize() == 1  # gone from the hub: nothing more reaches it
    finally:
        await hub.stop()
        await client.aclose()
