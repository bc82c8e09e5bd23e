"""The edge rate limit: requests per client per minute, counted in Redis across replicas.

A fixed one-minute window per client (one INCR per request); the services behind keep their
own, finer limits (chat's per-user limit, auth's login throttle). If Redis does not answer,
requests are let through and a warning is logged: the gateway stays up without its cache.
"""

import hashlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as redis
from starlette.requests import Request

from gateway.metrics import RATE_LIMITED
from service_kit import ApiError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# After Redis fails, requests skip the limit for this long instead of each paying for a
# failed connection attempt (and each logging it).
REDIS_BACKOFF_SECONDS = 5.0


def client_key(request: Request) -> str:
    """Who is asking: the bearer token's hash when there is one, else the client address."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        digest = hashlib.sha256(credentials.strip().encode()).hexdigest()[:32]
        return f"token:{digest}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


class EdgeRateLimiter:
    def __init__(
        self,
        client: redis.Redis,
        per_minute: int,
        *,
        key_prefix: str = "gateway:edge",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._limit = per_minute
        self._prefix = key_prefix
        self._clock = clock
        self._skip_until = 0.0

    @property
    def enabled(self) -> bool:
        return self._limit > 0

    async def check(self, client: str) -> None:
        """Count one request for ``client``; raise 429 (with Retry-After) past the limit."""
        if not self.enabled:
            return
        now = self._clock()
        if now < self._skip_until:
            return
        window = int(now // WINDOW_SECONDS)
        key = f"{self._prefix}:{client}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                count, _ = await pipe.incr(key).expire(key, 2 * WINDOW_SECONDS).execute()
        except (redis.RedisError, OSError) as exc:
            self._skip_until = now + REDIS_BACKOFF_SECONDS
            log.warning(
                "edge rate limit unavailable: letting requests through",
                extra={"error": repr(exc), "retryInSeconds": REDIS_BACKOFF_SECONDS},
            )
            return
        if count > self._limit:
            RATE_LIMITED.inc()
            retry_after = max(1, (window + 1) * WINDOW_SECONDS - int(now))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests: at most {self._limit} a minute; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
