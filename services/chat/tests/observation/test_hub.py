"""The observer hub's own failure paths: Redis unreachable when an observer subscribes, and a
read that fails in a way nobody expected."""

import asyncio

import pytest
import redis.asyncio as redis

from chat.observation.hub import ObserverHub
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.keys import observe_channel


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


class BrokenOncePubSub:
    """A pub/sub whose first read raises what no Redis client should, then reads a message."""

    def __init__(self, channel: bytes, data: str) -> None:
        self.reads = 0
        self.message = {"type": "message", "channel": channel, "data": data.encode()}

    async def subscribe(self, *channels: str) -> None:
        return None

    async def get_message(self, timeout: float) -> dict | None:
        self.reads += 1
        if self.reads == 1:
            raise KeyError("a bug in a read")
        if self.reads == 2:
            return self.message
        await asyncio.sleep(timeout)
        return None

    async def aclose(self) -> None:
        return None


async def test_an_unexpected_failure_reading_pub_sub_does_not_end_the_hub(monkeypatch):
    monkeypatch.setattr("chat.observation.hub.RETRY_SECONDS", 0.01)
    event = StreamEvent("a", 1, "chunk", {"content": "x"})
    pubsub = BrokenOncePubSub(observe_channel("s-1").encode(), f"[{event.to_json()}]")
    client = type("Client", (), {"pubsub": lambda self, **options: pubsub})()
    hub = ObserverHub(client)
    hub.start()
    try:
        queue = hub.open("s-1")
        await hub.listen("s-1")
        assert await asyncio.wait_for(queue.get(), 5) == event
        assert pubsub.reads >= 2
    finally:
        await hub.stop()
