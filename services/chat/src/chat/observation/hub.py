"""Observers on this replica: fed by this replica's own answers directly, and by every
replica's through Redis pub/sub (one connection for all of them).

An observer gets an answer served here from its producer, in the same turn of the event loop
as the user, and again later from pub/sub; the copy is dropped by its sequence number.

When Redis restarts, redis-py's pub/sub reconnects on the next read (the client's retry
policy) and subscribes again to every channel it had, so observers go on; a channel whose
unsubscribe failed meanwhile is unsubscribed once Redis answers again.
"""

import asyncio
import json
import logging
from collections.abc import Iterable

import redis.asyncio as redis

from background_loops import BackgroundLoop, Failure
from chat.fanout import FanOut
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.keys import observe_channel

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # after pub/sub failed


class ObserverHub:
    def __init__(self, client: redis.Redis) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._queues = FanOut[StreamEvent]()  # by session id
        self._listening: dict[str, asyncio.Future[None]] = {}
        self._leftover: set[str] = set()  # sessions whose unsubscribe failed
        self._subscribed = asyncio.Event()
        self._loop = BackgroundLoop(
            "observer-hub", self._dispatch, interval=RETRY_SECONDS, on_failure=self._report
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    def open(self, session_id: str) -> asyncio.Queue[StreamEvent]:
        """A queue that gets the session's events from this replica's answers from now on;
        ``listen`` adds the other replicas'."""
        return self._queues.subscribe(session_id)

    async def listen(self, session_id: str) -> None:
        """Subscribe to the session's channel, once for all its observers here; each waits
        until the subscription has been sent."""
        subscribing = self._listening.get(session_id)
        if subscribing is None:
            subscribing = asyncio.ensure_future(self._pubsub.subscribe(observe_channel(session_id)))
            subscribing.add_done_callback(lambda done: self._subscribe_done(session_id, done))
            self._listening[session_id] = subscribing
        await asyncio.shield(subscribing)

    def _subscribe_done(self, session_id: str, done: "asyncio.Future[None]") -> None:
        if done.cancelled() or done.exception() is not None:
            if self._listening.get(session_id) is done:
                del self._listening[session_id]  # the next observer tries again
            return
        self._subscribed.set()

    def deliver(self, session_id: str, events: Iterable[StreamEvent]) -> None:
        self._queues.publish(session_id, *events)

    async def unsubscribe(self, session_id: str, queue: asyncio.Queue[StreamEvent]) -> None:
        if not self._queues.unsubscribe(session_id, queue):
            return  # others still observe it here
        subscribing = self._listening.pop(session_id, None)
        if subscribing is None:
            return
        try:
            await self._pubsub.unsubscribe(observe_channel(session_id))
        except redis.RedisError as exc:
            log.warning("could not unsubscribe an observer channel", extra={"error": repr(exc)})
            self._leftover.add(session_id)

    async def _unsubscribe_leftover(self) -> None:
        """Unsubscribe the channels left subscribed by an outage (redis-py subscribes again
        to them on reconnecting), unless they are observed again."""
        sessions = [s for s in self._leftover if s not in self._queues]
        self._leftover.clear()
        if not sessions:
            return
        try:
            await self._pubsub.unsubscribe(*(observe_channel(s) for s in sessions))
        except redis.RedisError:
            self._leftover.update(sessions)

    async def _dispatch(self) -> None:
        """The loop's step: read and deliver until pub/sub fails (the loop steps again a
        second later)."""
        while True:
            await self._subscribed.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except RuntimeError:  # no subscription left on the connection
                self._subscribed.clear()
                continue
            if self._leftover:
                await self._unsubscribe_leftover()
            if message is None or message.get("type") != "message":
                continue
            session_id = message["channel"].decode().rsplit(":", 1)[1]
            if session_id in self._queues:
                self.deliver(session_id, published_events(message["data"]))

    def _report(self, failure: Failure) -> None:
        if isinstance(failure.error, redis.RedisError):
            log.warning("observer pub/sub failed; retrying", extra={"error": repr(failure.error)})
        else:
            log.error("observer pub/sub failed; retrying", exc_info=failure.error)


def published_events(data: bytes) -> list[StreamEvent]:
    """A batch of events (a JSON array); a single ``{"event": ...}`` from older replicas."""
    payload = json.loads(data)
    if isinstance(payload, dict):
        return [StreamEvent.from_json(payload["event"])]
    return [StreamEvent.from_record(record) for record in payload]
