"""Observers on this replica, fed from Redis pub/sub: one connection for all of them."""

import asyncio
import json
import logging
from collections import defaultdict

import redis.asyncio as redis

from chat.streaming.events import StreamEvent
from chat.streaming.redis_log import observe_channel

log = logging.getLogger(__name__)


class ObserverHub:
    def __init__(self, client: redis.Redis) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._queues: dict[str, set[asyncio.Queue[StreamEvent]]] = defaultdict(set)
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._dispatch(), name="observer-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._pubsub.aclose()

    async def subscribe(self, session_id: str) -> asyncio.Queue[StreamEvent]:
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
        first = not self._queues[session_id]
        self._queues[session_id].add(queue)
        if first:
            await self._pubsub.subscribe(observe_channel(session_id))
            self._subscribed.set()
        return queue

    async def unsubscribe(self, session_id: str, queue: asyncio.Queue[StreamEvent]) -> None:
        queues = self._queues.get(session_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._queues[session_id]
            try:
                await self._pubsub.unsubscribe(observe_channel(session_id))
            except redis.RedisError as exc:
                log.warning("could not unsubscribe an observer channel", extra={"error": repr(exc)})

    async def _dispatch(self) -> None:
        while True:
            await self._subscribed.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except redis.RedisError as exc:
                log.warning("observer pub/sub failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1)
                continue
            except RuntimeError:  # no subscription left on the connection
                self._subscribed.clear()
                continue
            if message is None or message.get("type") != "message":
                continue
            session_id = message["channel"].decode().rsplit(":", 1)[1]
            queues = self._queues.get(session_id)
            if not queues:
                continue
            for event in published_events(message["data"]):
                for queue in queues:
                    queue.put_nowait(event)


def published_events(data: bytes) -> list[StreamEvent]:
    """A batch of events (a JSON array); a single ``{"event": ...}`` from older replicas."""
    payload = json.loads(data)
    if isinstance(payload, dict):
        return [StreamEvent.from_json(payload["event"])]
    return [StreamEvent.from_record(record) for record in payload]
