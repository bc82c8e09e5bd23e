"""Reads of what live streams keep in Redis (``resume_log.batcher`` writes it)."""

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import cast

import redis.asyncio as redis

from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.keys import (
    ACTIVE_KEY,
    CLAIM_SECONDS,
    STALE_AFTER_SECONDS,
    attached_key,
    claim_key,
    events_key,
    info_key,
    live_key,
    replica_key,
)

# A Redis stream's entries as redis-py returns them: (id, fields) pairs.
Entries = list[tuple[bytes | str | None, dict[bytes | str, bytes | str] | None]]


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def logged_events(entries: Entries | None) -> list[StreamEvent]:
    """The events of a stream's entries, each stored under the field ``e``."""
    return [StreamEvent.from_json(fields[b"e"]) for _, fields in entries or () if fields]


@dataclass(frozen=True)
class ListedStream:
    """An entry of ``chat:active`` and its info hash (empty once the hash is gone)."""

    streaming_session_id: str
    info: dict[str, str]
    heartbeat_at: float

    @property
    def replica(self) -> str | None:
        """The replica producing it; None for a stream listed by a replica that predates
        replica ids (only its heartbeat tells whether it is alive)."""
        return self.info.get("replica")


class StreamLog:
    """Reads of what live streams keep in Redis, and the few small writes around them."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def replay(self, streaming_session_id: str, after_seq: int = 0) -> list[StreamEvent]:
        entries = await self._redis.xrange(
            events_key(streaming_session_id), min=f"0-{after_seq + 1}"
        )
        return logged_events(entries)

    async def exists(self, streaming_session_id: str) -> bool:
        return bool(await self._redis.exists(events_key(streaming_session_id)))

    async def last(self, streaming_session_id: str) -> StreamEvent | None:
        """The stream's latest logged event; None when nothing of it is kept."""
        events = logged_events(
            await self._redis.xrevrange(events_key(streaming_session_id), count=1)
        )
        return events[0] if events else None

    async def owner(self, streaming_session_id: str) -> tuple[str, str] | None:
        """(session id, user id) of a stream still in progress; None once it is over."""
        session_id, user_id = await self._redis.hmget(
            info_key(streaming_session_id), "sessionId", "userId"
        )
        if session_id is None or user_id is None:
            return None
        return text(session_id), text(user_id)

    async def tail(
        self, streaming_session_id: str, after_seq: int, block_ms: int = 5000
    ) -> list[StreamEvent]:
        """Events after ``after_seq``, waiting up to ``block_ms`` for the next one."""
        answer = await self._redis.xread(
            {events_key(streaming_session_id): f"0-{after_seq}"}, block=block_ms
        )
        # (stream, entries) pairs: redis-py gives RESP3's map in RESP2's shape too.
        streams = cast(list[tuple[bytes, Entries]], answer or [])
        return [event for _, entries in streams for event in logged_events(entries)]

    async def live_stream_of(self, session_id: str) -> str | None:
        value = await self._redis.get(live_key(session_id))
        return text(value) if value else None

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
        # withscores: (member, score) pairs, which redis-py's annotations cannot tell apart.
        entries = cast(
            list[tuple[bytes, float]], await self._redis.zrange(ACTIVE_KEY, 0, -1, withscores=True)
        )
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for streaming_session_id, _ in entries:
                pipe.hgetall(info_key(text(streaming_session_id)))
            infos: list[Mapping[bytes | str, bytes | str]] = await pipe.execute()
        return [
            ListedStream(
                text(streaming_session_id),
                {text(k): text(v) for k, v in info.items()},
                float(score),
            )
            for (streaming_session_id, score), info in zip(entries, infos, strict=True)
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
                pipe.delete(*(info_key(streaming_session_id) for streaming_session_id in ids))
                await pipe.execute()

    async def claim_end(self, streaming_session_id: str, replica_id: str) -> bool:
        """Take the right to end this answer (store and settle it); False when another
        replica holds it, having judged this one dead and ended the answer itself."""
        key = claim_key(streaming_session_id)
        if await self._redis.set(key, replica_id, nx=True, ex=CLAIM_SECONDS):
            return True
        holder = await self._redis.get(key)
        return holder is None or text(holder) == replica_id

    async def mark_attached(self, streaming_session_id: str, ttl_seconds: int) -> None:
        await self._redis.set(attached_key(streaming_session_id), "1", ex=ttl_seconds)

    async def is_attached(self, streaming_session_id: str) -> bool:
        return bool(await self._redis.exists(attached_key(streaming_session_id)))
