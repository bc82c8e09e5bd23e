"""Per-user request limits in Redis: fixed one-minute windows, 429 with Retry-After.

Every chat write counts once, before any work is done for it (credits, database, model):
creating a session (which also counts against its own, tighter limit), deleting one, a
message, a new stream, update-stream and an OpenAI completion. Resuming a stream with
Last-Event-ID is not a new request and is not counted. Where each is counted:
``StreamService.start`` for everything that asks a model (alongside its first read of the
history), ``SessionsService.create`` for a new session, and the ``OwnedSessionWrite``
dependency for the other writes on a session (after its ownership check, so a stranger's
session is 404 whatever the count).
"""

import logging
import time

import redis.asyncio as redis

from service_kit import ApiError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class RequestLimiter:
    def __init__(
        self, client: redis.Redis, per_minute: int, *, session_creates_per_minute: int
    ) -> None:
        self._redis = client
        self._limit = per_minute
        self._session_limit = session_creates_per_minute

    async def check(self, user_id: str, *, creates_session: bool = False) -> None:
        """Count one write of ``user_id``; 429 when it is past a limit."""
        window = int(time.time() // WINDOW_SECONDS)
        limits = [(f"chat:requests:{user_id}:{window}", self._limit, "requests")]
        if creates_session:
            limits.append(
                (f"chat:session-creates:{user_id}:{window}", self._session_limit, "new sessions")
            )
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key, _, _ in limits:
                    pipe.incr(key).expire(key, 2 * WINDOW_SECONDS)
                replies = await pipe.execute()
        except redis.RedisError as exc:
            # Availability over strictness: credits still bound what a user can spend.
            log.warning("request limit unavailable", extra={"error": repr(exc)})
            return
        for count, (_, limit, what) in zip(replies[::2], limits, strict=True):
            if count > limit:
                retry_after = max(1, WINDOW_SECONDS - int(time.time() % WINDOW_SECONDS))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"At most {limit} {what} a minute; try again in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )
