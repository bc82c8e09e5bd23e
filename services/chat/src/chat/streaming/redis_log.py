"""What other processes need of a live stream, kept in Redis.

* ``chat:events:{stream}`` (a Redis stream) holds every event, so a client can resume and an
  observer can see what was said before it joined; it expires a while after the end.
* ``chat:observe:{session}`` (pub/sub) carries each event to observers on any replica.
* ``chat:live:{session}`` names the session's stream in progress.
* ``chat:active`` (sorted by last heartbeat) and ``chat:stream:{stream}`` list live streams
  across replicas.
* ``chat:attached:{stream}`` is refreshed while some replica has the user connected.
"""

import time

import redis.asyncio as redis

from chat.streaming.events import StreamEvent

ACTIVE_KEY = "chat:active"
STALE_AFTER_SECONDS = 30


def events_key(stream_id: str) -> str:
    return f"chat:events:{stream_id}"


def observe_channel(session_id: str) -> str:
    return f"chat:observe:{session_id}"


def live_key(session_id: str) -> str:
    return f"chat:live:{session_id}"


def info_key(stream_id: str) -> str:
    return f"chat:stream:{stream_id}"


def attached_key(stream_id: str) -> str:
    return f"chat:attached:{stream_id}"


class StreamLog:
    """Reads of what live streams keep in Redis (``LogBatcher`` writes it)."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def replay(self, stream_id: str, after_seq: int = 0) -> list[StreamEvent]:
        entries = await self._redis.xrange(events_key(stream_id), min=f"0-{after_seq + 1}")
        return [StreamEvent.from_json(fields[b"e"]) for _, fields in entries]

    async def exists(self, stream_id: str) -> bool:
        return bool(await self._redis.exists(events_key(stream_id)))

    async def last(self, stream_id: str) -> StreamEvent | None:
        """The stream's latest logged event; None when nothing of it is kept."""
        entries = await self._redis.xrevrange(events_key(stream_id), count=1)
        return StreamEvent.from_json(entries[0][1][b"e"]) if entries else None

    async def owner(self, stream_id: str) -> tuple[str, str] | None:
        """(session id, user id) of a stream still in progress; None once it is over."""
        session_id, user_id = await self._redis.hmget(info_key(stream_id), "sessionId", "userId")
        if session_id is None or user_id is None:
            return None
        return session_id.decode(), user_id.decode()

    async def tail(self, stream_id: str, after_seq: int, block_ms: int = 5000) -> list[StreamEvent]:
        """Events after ``after_seq``, waiting up to ``block_ms`` for the next one."""
        answer = await self._redis.xread({events_key(stream_id): f"0-{after_seq}"}, block=block_ms)
        return [StreamEvent.from_json(f[b"e"]) for _, entries in answer for _, f in entries]

    async def live_stream_of(self, session_id: str) -> str | None:
        value = await self._redis.get(live_key(session_id))
        return value.decode() if value else None

    async def active(self) -> list[dict[str, str]]:
        since = time.time() - STALE_AFTER_SECONDS
        ids = await self._redis.zrangebyscore(ACTIVE_KEY, since, "+inf")
        await self._redis.zremrangebyscore(ACTIVE_KEY, "-inf", since)  # left by dead replicas
        streams = []
        for stream_id in ids:
            info = await self._redis.hgetall(info_key(stream_id.decode()))
            if info:
                streams.append({k.decode(): v.decode() for k, v in info.items()})
        return streams

    async def mark_attached(self, stream_id: str, ttl_seconds: int) -> None:
        await self._redis.set(attached_key(stream_id), "1", ex=ttl_seconds)

    async def is_attached(self, stream_id: str) -> bool:
        return bool(await self._redis.exists(attached_key(stream_id)))
