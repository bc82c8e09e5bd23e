"""What other processes need of a live stream, kept in Redis.

* ``chat:events:{stream}`` (a Redis stream) holds every event, so a client can resume and an
  observer can see what was said before it joined; it expires a while after the end.
* ``chat:observe:{session}`` (pub/sub) carries each event to observers on any replica.
* ``chat:live:{session}`` names the session's stream in progress.
* ``chat:active`` (sorted by last heartbeat) and ``chat:stream:{stream}`` list live streams
  across replicas; the hash names the replica producing the stream.
* ``chat:attached:{stream}`` is refreshed while some replica has the user connected.
* ``chat:replica:{replica}`` exists while that replica is alive (``liveness``): a stream whose
  replica is gone is not active, and ``recovery`` ends it.
* ``chat:recovery:{stream}`` is held by the replica ending a lost stream (``recovery``).
"""

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import redis.asyncio as redis

from chat.streaming.events import StreamEvent

ACTIVE_KEY = "chat:active"
STALE_AFTER_SECONDS = 30
# How long the right to end an answer is held (by its producer, or by a recovering replica).
CLAIM_SECONDS = 30


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


def replica_key(replica_id: str) -> str:
    return f"chat:replica:{replica_id}"


def claim_key(stream_id: str) -> str:
    return f"chat:recovery:{stream_id}"


@dataclass(frozen=True)
class ListedStream:
    """An entry of ``chat:active`` and its info hash (empty once the hash is gone)."""

    stream_id: str
    info: dict[str, str]
    heartbeat_at: float

    @property
    def replica(self) -> str | None:
        """The replica producing it; None for a stream listed by a replica that predates
        replica ids (only its heartbeat tells whether it is alive)."""
        return self.info.get("replica")


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
        """The info of every stream whose replica is alive, whatever replica asks."""
        listed = [stream for stream in await self.listed() if stream.info]
        alive = await self.alive({s.replica for s in listed if s.replica})
        since = time.time() - STALE_AFTER_SECONDS
        return [
            stream.info
            for stream in listed
            if (stream.replica in alive if stream.replica else stream.heartbeat_at >= since)
        ]

    async def listed(self) -> list[ListedStream]:
        """Every stream in ``chat:active``, alive or not: two round trips however many."""
        entries = await self._redis.zrange(ACTIVE_KEY, 0, -1, withscores=True)
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream_id, _ in entries:
                pipe.hgetall(info_key(stream_id.decode()))
            infos = await pipe.execute()
        return [
            ListedStream(
                stream_id.decode(), {k.decode(): v.decode() for k, v in info.items()}, score
            )
            for (stream_id, score), info in zip(entries, infos, strict=True)
        ]

    async def alive(self, replicas: Collection[str]) -> set[str]:
        """Which of these replicas are alive (their key exists), in one round trip."""
        ordered = list(replicas)
        if not ordered:
            return set()
        found = await self._redis.mget([replica_key(replica) for replica in ordered])
        return {replica for replica, value in zip(ordered, found, strict=True) if value}

    async def unlist(self, stream_ids: Iterable[str]) -> None:
        """Take streams off the active list (and their info hashes with them)."""
        ids = list(stream_ids)
        if ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zrem(ACTIVE_KEY, *ids)
                pipe.delete(*(info_key(stream_id) for stream_id in ids))
                await pipe.execute()

    async def claim_end(self, stream_id: str, replica_id: str) -> bool:
        """Take the right to end this answer (store and settle it); False when another
        replica holds it, having judged this one dead and ended the answer itself."""
        key = claim_key(stream_id)
        if await self._redis.set(key, replica_id, nx=True, ex=CLAIM_SECONDS):
            return True
        holder = await self._redis.get(key)
        return holder is None or holder.decode() == replica_id

    async def mark_attached(self, stream_id: str, ttl_seconds: int) -> None:
        await self._redis.set(attached_key(stream_id), "1", ex=ttl_seconds)

    async def is_attached(self, stream_id: str) -> bool:
        return bool(await self._redis.exists(attached_key(stream_id)))
