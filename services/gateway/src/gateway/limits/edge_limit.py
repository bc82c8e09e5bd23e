"""Rate limits at the edge: hits per bucket per minute, counted in Redis across replicas.

A fixed one-minute window per bucket (one INCR per hit). The edge limit's buckets are the
verified callers (``gateway.callers.identity``); the API key exchange counts failed attempts
per client address with a limiter of its own. The services behind keep their own, finer limits
(chat's per-user limit, auth's login throttle). If Redis does not answer, hits are let through
and a warning is logged: the gateway stays up without its cache.
"""

import logging
import time
from collections.abc import Callable

import redis.asyncio as redis

from gateway.metrics import RATE_LIMITED
from service_kit import ApiError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# After Redis fails, hits skip the limit for this long instead of each paying for a failed
# connection attempt (and each logging it).
REDIS_BACKOFF_SECONDS = 5.0


class EdgeRateLimiter:
    def __init__(
        self,
        client: redis.Redis,
        per_minute: int,
        *,
        key_prefix: str = "gateway:edge",
        name: str = "edge",
        what: str = "requests",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._limit = per_minute
        self._prefix = key_prefix
        self._name = name
        self._what = what
        self._clock = clock
        self._skip_until = 0.0
        RATE_LIMITED.labels(name)  # exported as 0 from the start, not only after a first 429

    async def check(self, bucket: str, per_minute: int | None = None) -> str | None:
        """Count one hit for ``bucket``; 429 (with Retry-After) past the limit: the configured
        one, or ``per_minute`` (the caller's own) when that is lower or the other is off.

        Returns the counter that was raised (for ``give_back``), None when none was.
        """
        limit = min((n for n in (self._limit, per_minute) if n), default=0)
        now = self._clock()
        if limit <= 0 or now < self._skip_until:
            return None
        window = int(now // WINDOW_SECONDS)
        key = f"{self._prefix}:{bucket}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                count, _ = await pipe.incr(key).expire(key, 2 * WINDOW_SECONDS).execute()
        except (redis.RedisError, OSError) as exc:
            self._unavailable(now, exc)
            return None
        if count > limit:
            RATE_LIMITED.labels(self._name).inc()
            retry_after = max(1, (window + 1) * WINDOW_SECONDS - int(now))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many {self._what}: at most {limit} a minute; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
        return key

    async def give_back(self, counter: str) -> None:
        """Take back a hit ``check`` counted that turned out not to be one that is limited."""
        try:
            await self._redis.decr(counter)
        except (redis.RedisError, OSError) as exc:
            self._unavailable(self._clock(), exc)

    def _unavailable(self, now: float, exc: Exception) -> None:
        self._skip_until = now + REDIS_BACKOFF_SECONDS
        log.warning(
            f"{self._name} rate limit unavailable: letting requests through",
            extra={"error": repr(exc), "retryInSeconds": REDIS_BACKOFF_SECONDS},
        )
