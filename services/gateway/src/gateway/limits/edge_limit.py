"""Rate limits at the edge: hits per bucket per minute, counted in Redis across replicas
(``rate_limits.FixedWindow``: one-minute windows of the clock, one atomic count per hit).

The edge limit's buckets are the verified callers (``gateway.callers.identity``); the API key
exchange counts failed attempts per client address with a limiter of its own. The services
behind keep their own, finer limits (chat's per-user limit, auth's login throttle). If Redis
does not answer, hits are let through and a warning is logged: the gateway stays up without
its cache.
"""

import logging
import time
from collections.abc import Callable

import redis.asyncio as redis

from gateway.metrics import RATE_LIMITED
from rate_limits import FailOpen, FixedWindow, rate_limited

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
        # Counters: {key_prefix}:{bucket}:{minute}.
        self._windows = FixedWindow(
            client,
            prefix=key_prefix,
            fail_open=FailOpen(
                log,
                f"{name} rate limit unavailable: letting requests through",
                backoff_seconds=REDIS_BACKOFF_SECONDS,
                clock=clock,
            ),
            window_seconds=WINDOW_SECONDS,
            clock=clock,
        )
        self._limit = per_minute
        self._name = name
        self._what = what
        RATE_LIMITED.labels(name)  # exported as 0 from the start, not only after a first 429

    async def check(self, bucket: str, per_minute: int | None = None) -> str | None:
        """Count one hit for ``bucket``; 429 (with Retry-After) past the limit: the configured
        one, or ``per_minute`` (the caller's own) when that is lower or the other is off.

        Returns the counter that was raised (for ``give_back``), None when none was.
        """
        limit = min((n for n in (self._limit, per_minute) if n), default=0)
        if limit <= 0:
            return None
        count = await self._windows.hit(bucket, limit)
        if count is None:
            return None
        if count.exceeded:
            RATE_LIMITED.labels(self._name).inc()
            raise rate_limited(
                f"Too many {self._what}: at most {limit} a minute; "
                f"try again in {count.retry_after} s",
                count.retry_after,
            )
        return count.counter

    async def give_back(self, counter: str) -> None:
        """Take back a hit ``check`` counted that turned out not to be one that is limited."""
        await self._windows.give_back(counter)
