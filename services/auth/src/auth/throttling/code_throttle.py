"""Wrong 2FA codes, throttled like wrong passwords (``rate_limits.SlotCounters``, see
``login_throttle``): counted per (user, client address), ``LOGIN_MAX_FAILURES``, and per user
from every address, ``MFA_MAX_FAILURES_PER_USER``, within ``LOGIN_FAILURE_WINDOW_SECONDS``.

Whoever tries codes already knows the password, or holds the user's session (verify, turning
2FA off): the per-user count is what bounds guessing from many addresses (six digits are a
million codes; with the defaults 20 guesses a window). Each attempt takes its slot before its
code is checked, so parallel guesses cannot pass together; a right code clears the pair's
count and gives the user's slot back, an attempt never judged gives both back. Both keys carry
the user's id as their hash tag (one script, one Redis Cluster slot). Redis unreachable: codes
are checked unthrottled (each mfaToken still takes only ``MFA_MAX_ATTEMPTS_PER_TOKEN``).
"""

import hashlib
import logging
from dataclasses import dataclass
from uuid import UUID

import redis.asyncio as redis

from rate_limits import FailOpen, SlotCounters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeAttempt:
    pair_key: str
    user_key: str
    # Seconds to wait when refused; None when the code may be checked.
    retry_after: int | None = None
    # False when nothing was counted (refused, or Redis unreachable): no slot to give back.
    counted: bool = True


class CodeThrottle:
    def __init__(
        self, client: redis.Redis, *, max_failures: int, max_failures_per_user: int, window: int
    ) -> None:
        self._counters = SlotCounters(
            client,
            limits=(max_failures, max_failures_per_user),
            window_seconds=window,
            fail_open=FailOpen(log, "2FA code throttle unavailable"),
        )

    async def reserve(self, user_id: UUID, ip: str) -> CodeAttempt:
        """Count this attempt as a failure before its code is checked, unless refused."""
        address = hashlib.sha256(ip.encode()).hexdigest()[:32]
        pair_key = f"auth:mfa-failures:{{{user_id}}}:{address}"
        user_key = f"auth:mfa-failures-user:{{{user_id}}}"
        reservation = await self._counters.reserve((pair_key, user_key))
        return CodeAttempt(pair_key, user_key, reservation.retry_after, reservation.counted)

    async def succeeded(self, attempt: CodeAttempt) -> None:
        if attempt.counted:
            await self._counters.release(clear=[attempt.pair_key], give_back=[attempt.user_key])

    async def abandoned(self, attempt: CodeAttempt) -> None:
        if attempt.counted:
            await self._counters.release(give_back=[attempt.pair_key, attempt.user_key])
