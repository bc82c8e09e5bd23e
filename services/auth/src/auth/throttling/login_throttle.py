"""Login throttling in Redis: failures are counted per (login, client address) and per address
(``rate_limits.SlotCounters``).

Counting per pair, not per account, keeps an attacker from locking a user out from elsewhere;
the per-address count caps password spraying across many accounts. Windows are fixed, starting
at the first failure.

An attempt takes its slot in both counters *before* its password is checked, atomically, so N
parallel guesses cannot all read "below the limit" and then all be hashed (with a limit of 10,
at most 10 of 50 concurrent wrong guesses are judged, the rest get 429). The slot is kept when
the password was wrong, which is what makes it a counted failure; a right password clears the
pair's count and gives the address its slot back, and an attempt that was never judged (an
error on the way) gives both back.

If Redis is unreachable, logins are let through (argon2 still bounds the guessing rate) and a
warning is logged.
"""

import hashlib
import logging
from dataclasses import dataclass

import redis.asyncio as redis

from rate_limits import FailOpen, SlotCounters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginAttempt:
    """One login attempt's place in the counters."""

    pair_key: str
    ip_key: str
    # Seconds to wait when refused; None when the attempt may check its password.
    retry_after: int | None = None
    # False when nothing was counted (refused, or Redis unreachable): no slot to give back.
    counted: bool = True


class LoginThrottle:
    def __init__(
        self, client: redis.Redis, *, max_failures: int, max_failures_per_ip: int, window: int
    ) -> None:
        self._counters = SlotCounters(
            client,
            limits=(max_failures, max_failures_per_ip),
            window_seconds=window,
            fail_open=FailOpen(log, "login throttle unavailable"),
        )

    @staticmethod
    def _keys(login: str, ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
        # Both keys carry the address as their hash tag, so one script may touch both in a
        # Redis Cluster too.
        return f"auth:login-failures:{{{ip}}}:{digest}", f"auth:login-failures-ip:{{{ip}}}"

    async def reserve(self, login: str, ip: str) -> LoginAttempt:
        """Count this attempt as a failure before its password is checked, unless refused."""
        pair_key, ip_key = self._keys(login, ip)
        reservation = await self._counters.reserve((pair_key, ip_key))
        return LoginAttempt(pair_key, ip_key, reservation.retry_after, reservation.counted)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: clear the pair's failures, give the address its slot back."""
        if attempt.counted:
            await self._counters.release(clear=[attempt.pair_key], give_back=[attempt.ip_key])

    async def abandoned(self, attempt: LoginAttempt) -> None:
        """The attempt was never judged (an error on the way): give both slots back."""
        if attempt.counted:
            await self._counters.release(give_back=[attempt.pair_key, attempt.ip_key])
