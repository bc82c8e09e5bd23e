"""Hits per bucket in fixed windows of the clock, counted in Redis across replicas.

Window ``n`` is ``[n * window_seconds, (n + 1) * window_seconds)`` of the wall clock, the same
on every replica, and each bucket's count in it is the Redis key ``{prefix}:{bucket}:{n}``
(kept two windows, so it outlives its own). A hit is counted *before* it is compared (one
atomic INCRBY and EXPIRE), so N parallel hits cannot all read "below the limit"; a refused hit
is counted too, as it was made. ``Retry-After`` is the time until the window turns, known
without asking Redis.

The counting is the ``limits`` library's asyncio Redis storage (its ``incr`` script and
``get``) on the service's own redis-py connection pool. Its strategies are not used:
``FixedWindowRateLimiter`` starts a window at a bucket's first hit and names its keys
``LIMITER/<bucket>/<amount>/<multiples>/<granularity>``, so it can neither keep chat's per-minute
``chat:key-tokens:{key}:{minute}`` counters nor tell ``Retry-After`` without two more round
trips (``get_window_stats``: GET and TTL) for every refusal, which on the gateway is the path
a flood takes.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as redis
from limits.aio.storage import RedisStorage

from rate_limits.fail_open import STORE_ERRORS, FailOpen


@dataclass(frozen=True, slots=True)
class WindowCount:
    """A bucket's count in its window, as a hit left it (or, from ``test``, would leave it)."""

    counter: str  # the Redis key of the bucket's window, for ``give_back``
    count: int
    limit: int
    retry_after: int  # whole seconds until the window turns, at least 1

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


class FixedWindow:
    """Counters ``{prefix}:{bucket}:{window}`` on ``client``'s connection pool, windows of
    ``window_seconds`` on ``clock``; ``fail_open`` says what happens when Redis does not answer.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str,
        fail_open: FailOpen,
        window_seconds: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=prefix,
            wrap_exceptions=True,
            # limits types its options as scalars; a pool is its documented way to share one.
            connection_pool=client.connection_pool,  # type: ignore[arg-type]
        )
        self._prefix = f"{prefix}:"
        self._fail_open = fail_open
        self._seconds = window_seconds
        self._clock = clock

    def window(self) -> int:
        """The number of the window the clock is in."""
        return int(self._clock() // self._seconds)

    async def hit(
        self, bucket: str, limit: int, *, cost: int = 1, window: int | None = None
    ) -> WindowCount | None:
        """Count ``cost`` for ``bucket`` in ``window`` (default: the clock's), then compare with
        ``limit``. None when Redis did not answer: the hit goes through, uncounted."""
        if self._fail_open.skipping:
            return None
        name = self._name(bucket, window)
        try:
            count = await self._storage.incr(name, 2 * self._seconds, amount=cost)
        except STORE_ERRORS as exc:
            self._fail_open.unavailable(exc)
            return None
        return self._count(name, count, limit)

    async def test(
        self, bucket: str, limit: int, *, cost: int = 1, window: int | None = None
    ) -> WindowCount | None:
        """What ``hit`` would count, without counting it (None when Redis did not answer)."""
        if self._fail_open.skipping:
            return None
        name = self._name(bucket, window)
        try:
            used = await self._storage.get(name)
        except STORE_ERRORS as exc:
            self._fail_open.unavailable(exc)
            return None
        return self._count(name, used + cost, limit)

    async def give_back(self, counter: str, cost: int = 1) -> None:
        """Take back ``cost`` that a hit on ``counter`` counted (a ``WindowCount.counter``).

        A counter that expired meanwhile belongs to a window that is over: it is left below
        zero there, with a TTL, and nothing counts in it again."""
        if not counter.startswith(self._prefix):
            raise ValueError(f"{counter!r} is not a counter of this limiter")
        try:
            await self._storage.incr(counter.removeprefix(self._prefix), 2 * self._seconds, -cost)
        except STORE_ERRORS as exc:
            self._fail_open.unavailable(exc)

    def _name(self, bucket: str, window: int | None) -> str:
        return f"{bucket}:{self.window() if window is None else window}"

    def _count(self, name: str, count: int, limit: int) -> WindowCount:
        now = self._clock()
        turns_at = (int(now // self._seconds) + 1) * self._seconds
        return WindowCount(self._prefix + name, count, limit, max(1, turns_at - int(now)))
