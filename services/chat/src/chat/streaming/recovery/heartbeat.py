"""This replica's heartbeat: ``chat:replica:{id}`` exists while the process is alive.

Each live stream's info hash names the replica producing it, so whether a stream's producer is
alive costs one key per replica, not a round trip per stream. The key is refreshed every
``every`` seconds and outlives the last refresh by ``ttl``: a replica killed outright
(``kill -9``, a lost machine) is taken for dead that long after, and ``lost_answers`` ends its
answers.
"""

import logging
import time

import redis.asyncio as redis

from background_loops import BackgroundLoop
from chat.streaming.resume_log.keys import replica_key

log = logging.getLogger(__name__)


class ReplicaHeartbeat:
    def __init__(self, client: redis.Redis, replica_id: str, *, ttl: float, every: float) -> None:
        self._redis = client
        self._key = replica_key(replica_id)
        self._ttl_ms = max(1, round(ttl * 1000))
        self._loop = BackgroundLoop("replica-heartbeat", self.beat, interval=every)

    async def beat(self) -> bool:
        """Refresh the key once; False when Redis did not take it."""
        try:
            await self._redis.set(self._key, str(time.time()), px=self._ttl_ms)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not refresh this replica's heartbeat", extra={"error": repr(exc)})
            return False
        return True

    def start(self) -> None:
        """Refresh the key now and every ``every`` seconds."""
        self._loop.start()

    async def stop(self, *, forget: bool = True) -> None:
        """Stop refreshing; ``forget`` deletes the key at once (only when this replica has no
        answer left to end, or another replica would end it too)."""
        await self._loop.stop()
        if forget:
            try:
                await self._redis.delete(self._key)
            except (redis.RedisError, OSError) as exc:
                log.warning("could not delete this replica's key", extra={"error": repr(exc)})
