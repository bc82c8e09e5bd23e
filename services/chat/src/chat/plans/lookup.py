"""Each user's plan, kept in this replica's memory: fresh for ``fresh_seconds``, then asked
again; kept for ``stale_seconds`` more for when provisioning cannot be reached.

Concurrent requests of one user whose plan is not fresh share one call to provisioning.
"""

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chat.plans.client import CallerPlan
from service_kit import ApiError

log = logging.getLogger(__name__)


class PlanSource(Protocol):
    async def plan_of(self, user_id: str) -> CallerPlan | None: ...


@dataclass(frozen=True, slots=True)
class _Known:
    plan: CallerPlan | None
    at: float  # the clock's reading when provisioning answered it


class PlanLookup:
    def __init__(
        self,
        source: PlanSource,
        *,
        fresh_seconds: float,
        stale_seconds: float,
        max_users: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._fresh = fresh_seconds
        self._stale = stale_seconds
        self._max_users = max_users
        self._clock = clock
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._asking: dict[str, asyncio.Task[CallerPlan | None]] = {}

    async def plan_of(self, user_id: str) -> CallerPlan | None:
        """The user's plan (None: on none); 503 ``provisioning_unavailable`` when provisioning
        cannot be reached and no answer of the last ``stale_seconds`` is known."""
        known = self._known.get(user_id)
        if known is not None and self._clock() - known.at < self._fresh:
            return known.plan
        asking = self._asking.get(user_id)
        if asking is None:
            asking = asyncio.create_task(self._ask(user_id), name=f"plan-of-{user_id}")
            self._asking[user_id] = asking
            asking.add_done_callback(functools.partial(self._forget, user_id))
        try:
            # Shielded: a caller that goes away does not cancel the others' answer.
            return await asyncio.shield(asking)
        except ApiError:
            known = self._known.get(user_id)
            if known is not None and self._clock() - known.at < self._fresh + self._stale:
                log.warning(
                    "plan lookup failed; the last known plan applies", extra={"userId": user_id}
                )
                return known.plan
            raise

    def _forget(self, user_id: str, asking: "asyncio.Task[CallerPlan | None]") -> None:
        self._asking.pop(user_id, None)
        if not asking.cancelled():
            asking.exception()  # retrieved, even when every caller went away

    async def _ask(self, user_id: str) -> CallerPlan | None:
        plan = await self._source.plan_of(user_id)
        self._known[user_id] = _Known(plan, self._clock())
        self._known.move_to_end(user_id)
        while len(self._known) > self._max_users:
            self._known.popitem(last=False)
        return plan
