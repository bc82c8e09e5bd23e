"""Attempts that take a slot in several counters at once, before they are judged.

Auth's login throttle: an attempt takes its slot in the (login, address) counter and the
address counter *before* its password is checked, in one Lua script that checks every counter
and increments them only when all have room. N parallel guesses cannot all read "below the
limit" and then all be hashed (with a limit of 10, at most 10 of 50 concurrent wrong guesses
are judged), a refused attempt counts nothing (so it cannot push a window on), and a window
starts at its counter's first slot. Slots are given back (an attempt never judged), or a
counter is cleared (a right password), in one more script.

Not the ``limits`` library: each of its strategies acts on one key per call (``hit``,
``test``: a fixed window's INCR, a moving window's entry), so two counters are two calls that
can each pass while the other refuses, its fixed window counts a refused hit, ``test`` then
``hit`` is a check-then-act race, and it has no way to give one slot back (an ``incr`` of -1
on an expired counter would create it again, below zero, as a free slot in the next window).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as redis
from redis.commands.core import AsyncScript

from rate_limits.fail_open import STORE_ERRORS, FailOpen

# KEYS: the counters. ARGV: each counter's limit, then the window in seconds.
# Returns 0 when the attempt took a slot in every counter, else the seconds to wait (nothing
# is counted then). A full counter found without a TTL gets one.
_RESERVE = """
local window = tonumber(ARGV[#KEYS + 1])
local wait = 0
for i = 1, #KEYS do
    local count = tonumber(redis.call('GET', KEYS[i]) or '0')
    if count >= tonumber(ARGV[i]) then
        local ttl = redis.call('TTL', KEYS[i])
        if ttl < 0 then
            redis.call('EXPIRE', KEYS[i], window)
            ttl = window
        end
        if ttl > wait then wait = ttl end
    end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
    redis.call('INCR', KEYS[i])
    if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], window) end
end
return 0
"""

# KEYS: the counters to clear, then those to give one slot back to. ARGV: how many to clear.
# A counter that expired meanwhile is left alone (a DECR would create it again, negative and
# without a TTL).
_RELEASE = """
local cleared = tonumber(ARGV[1])
for i = 1, #KEYS do
    if i <= cleared then
        redis.call('DEL', KEYS[i])
    else
        local count = tonumber(redis.call('GET', KEYS[i]) or '0')
        if count > 0 then redis.call('DECR', KEYS[i]) end
    end
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Reservation:
    """An attempt's place in the counters."""

    # Seconds to wait when refused; None when the attempt may go on.
    retry_after: int | None = None
    # False when nothing was counted (refused, or Redis unreachable): nothing to give back.
    counted: bool = True


class SlotCounters:
    """Counters of one kind, each with its limit, windows of ``window_seconds`` each starting
    at its counter's first slot. In a Redis Cluster the keys of one attempt need one hash tag.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        limits: Sequence[int],
        window_seconds: int,
        fail_open: FailOpen,
    ) -> None:
        self._limits = list(limits)
        self._window = window_seconds
        self._fail_open = fail_open
        self._reserve: AsyncScript = client.register_script(_RESERVE)
        self._release: AsyncScript = client.register_script(_RELEASE)

    async def reserve(self, counters: Sequence[str]) -> Reservation:
        """Take a slot in each of ``counters`` (one per limit, in order), or none."""
        if len(counters) != len(self._limits):
            raise ValueError(f"{len(self._limits)} counters expected, got {len(counters)}")
        try:
            wait = int(await self._reserve(keys=list(counters), args=[*self._limits, self._window]))
        except STORE_ERRORS as exc:
            self._fail_open.unavailable(exc)
            return Reservation(counted=False)
        if wait:
            return Reservation(retry_after=max(wait, 1), counted=False)
        return Reservation()

    async def release(self, *, clear: Sequence[str] = (), give_back: Sequence[str] = ()) -> None:
        """Delete the ``clear`` counters and give each ``give_back`` counter its slot back."""
        try:
            await self._release(keys=[*clear, *give_back], args=[len(clear)])
        except STORE_ERRORS as exc:
            self._fail_open.unavailable(exc)
