"""Per-user request limits (``rate_limits.FixedWindow``): one-minute windows, 429 with
Retry-After.

Every chat write counts once, before any work is done for it (credits, database, model):
creating a session (which also counts against its own, tighter limit), deleting one, a
message, a new stream, update-stream and an OpenAI completion. Resuming a stream with
Last-Event-ID is not a new request and is not counted. Where each is counted:
``StreamService.start`` for everything that asks a model (alongside its first read of the
history), ``SessionsService.create`` for a new session, and the ``OwnedSessionWrite``
dependency for the other writes on a session (after its ownership check, so a stranger's
session is 404 whatever the count).

If Redis does not answer, writes are let through and a warning is logged: credits still bound
what a user can spend.

A user on a plan is held to the plan's ``requestsPerMinute`` instead of ``per_minute``
(``chat.plans``); while their plan cannot be known (provisioning down, nothing known of it),
``per_minute`` applies, the way the limit fails open when Redis does.
"""

import logging

import redis.asyncio as redis

from chat.plans.lookup import PlanLookup
from rate_limits import FailOpen, FixedWindow, rate_limited
from service_kit import ApiError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class RequestLimiter:
    def __init__(
        self,
        client: redis.Redis,
        per_minute: int,
        *,
        session_creates_per_minute: int,
        plans: PlanLookup | None = None,
    ) -> None:
        # Counters: chat:requests:{user}:{minute} and chat:session-creates:{user}:{minute}.
        self._windows = FixedWindow(
            client,
            prefix="chat",
            fail_open=FailOpen(log, "request limit unavailable"),
            window_seconds=WINDOW_SECONDS,
        )
        self._limit = per_minute
        self._session_limit = session_creates_per_minute
        self._plans = plans

    async def per_minute(self, user_id: str) -> int:
        """The user's request limit: their plan's, or the chat-wide one."""
        if self._plans is None:
            return self._limit
        try:
            plan = await self._plans.plan_of(user_id)
        except ApiError:
            return self._limit  # logged where the lookup failed
        return self._limit if plan is None else plan.requests_per_minute

    async def check(self, user_id: str, *, creates_session: bool = False) -> None:
        """Count one write of ``user_id``; 429 when it is past a limit."""
        limits = [(f"requests:{user_id}", await self.per_minute(user_id), "requests")]
        if creates_session:
            limits.append((f"session-creates:{user_id}", self._session_limit, "new sessions"))
        refused = None
        for bucket, limit, what in limits:
            count = await self._windows.hit(bucket, limit)
            if count is None:
                return  # Redis is down: let it through (and do not try the next counter)
            if count.exceeded and refused is None:
                refused = (count, what)
        if refused is not None:
            count, what = refused
            raise rate_limited(
                f"At most {count.limit} {what} a minute; try again in {count.retry_after} s",
                count.retry_after,
            )
