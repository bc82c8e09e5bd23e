"""Per-user request limit in Redis: a fixed one-minute window, 429 with Retry-After."""

import logging
import time

import redis.asyncio as redis

from service_kit import ApiError

log = logging.getLogger(__name__)


class RequestLimiter:
    def __init__(self, client: redis.Redis, per_minute: int) -> None:
        self._redis = client
        self._limit = per_minute

    async def check(self, user_id: str) -> None:
        window = int(time.time() // 60)
        key = f"chat:requests:{user_id}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, 120).execute()
        except redis.RedisError as exc:
            # Availability over strictness: credits still bound what a user can spend.
            log.warning("request limit unavailable", extra={"error": repr(exc)})
            return
        if count > self._limit:
            retry_after = max(1, 60 - int(time.time() % 60))
            raise ApiError(
                429,
                "rate_limited",
                f"At most {self._limit} requests a minute; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
