"""Login throttling in Redis: failures are counted per (login, client address) and per address.

Counting per pair, not per account, keeps an attacker from locking a user out from elsewhere;
the per-address count caps password spraying across many accounts. Windows are fixed, starting
at the first failure.

An attempt takes its slot *before* its password is checked: one Lua script checks both counters
and increments them, atomically, so N parallel guesses cannot all read "below the limit" and
then all be hashed (with a limit of 10, at most 10 of 50 concurrent wrong guesses are judged,
the rest get 429). The slot is kept when the password was wrong, which is what makes it a
counted failure; a right password clears the pair's count and gives the address its slot back,
and an attempt that was never judged (an error on the way) gives both back.

If Redis is unreachable, logins are let through (argon2 still bounds the guessing rate) and a
warning is logged.
"""

import hashlib
import logging
from dataclasses import dataclass

import redis.asyncio as redis
from redis.commands.core import AsyncScript

log = logging.getLogger(__name__)

# KEYS: pair, address. ARGV: pair limit, address limit, window seconds.
# Returns 0 when the attempt took a slot in both counters, else the seconds to wait (nothing
# is counted then, so refused attempts do not push the window on).
_RESERVE = """
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
local window = tonumber(ARGV[3])
local wait = 0
for i = 1, 2 do
    local count = tonumber(redis.call('GET', KEYS[i]) or '0')
    if count >= limits[i] then
        local ttl = redis.call('TTL', KEYS[i])
        if ttl < 0 then
            redis.call('EXPIRE', KEYS[i], window)
            ttl = window
        end
        if ttl > wait then wait = ttl end
    end
end
if wait > 0 then return wait end
for i = 1, 2 do
    redis.call('INCR', KEYS[i])
    if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], window) end
end
return 0
"""

# KEYS: the counters to give one slot back to. A counter that expired meanwhile is left alone
# (a DECR would create it again, negative and without a TTL).
_GIVE_BACK = """
for i = 1, #KEYS do
    local count = tonumber(redis.call('GET', KEYS[i]) or '0')
    if count > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""

# KEYS: pair, address. The pair's failures are forgiven; the address gets its slot back.
_SUCCEED = """
redis.call('DEL', KEYS[1])
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
if count > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""


@dataclass(frozen=True)
class LoginAttempt:
    """One login attempt's place in the counters."""

    pair_key: str
    ip_key: str
    # Seconds to wait when refused; None when the attempt may check its password.
    retry_after: int | None = None
    # False when Redis was unreachable: there is no slot to give back.
    counted: bool = True


class LoginThrottle:
    def __init__(
        self, client: redis.Redis, *, max_failures: int, max_failures_per_ip: int, window: int
    ) -> None:
        self._max_pair = max_failures
        self._max_ip = max_failures_per_ip
        self._window = window
        self._reserve = client.register_script(_RESERVE)
        self._give_back = client.register_script(_GIVE_BACK)
        self._succeed = client.register_script(_SUCCEED)

    @staticmethod
    def _keys(login: str, ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
        # Both keys carry the address as their hash tag, so one script may touch both in a
        # Redis Cluster too.
        return f"auth:login-failures:{{{ip}}}:{digest}", f"auth:login-failures-ip:{{{ip}}}"

    async def reserve(self, login: str, ip: str) -> LoginAttempt:
        """Count this attempt as a failure before its password is checked, unless refused."""
        pair_key, ip_key = self._keys(login, ip)
        try:
            wait = int(
                await self._reserve(
                    keys=[pair_key, ip_key], args=[self._max_pair, self._max_ip, self._window]
                )
            )
        except redis.RedisError as exc:
            log.warning("login throttle unavailable", extra={"error": repr(exc)})
            return LoginAttempt(pair_key, ip_key, counted=False)
        if wait:
            return LoginAttempt(pair_key, ip_key, retry_after=max(wait, 1), counted=False)
        return LoginAttempt(pair_key, ip_key)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: clear the pair's failures, give the address its slot back."""
        if attempt.counted:
            await self._run(self._succeed, [attempt.pair_key, attempt.ip_key])

    async def abandoned(self, attempt: LoginAttempt) -> None:
        """The attempt was never judged (an error on the way): give both slots back."""
        if attempt.counted:
            await self._run(self._give_back, [attempt.pair_key, attempt.ip_key])

    async def _run(self, script: AsyncScript, keys: list[str]) -> None:
        try:
            await script(keys=keys)
        except redis.RedisError as exc:
            log.warning("login throttle unavailable", extra={"error": repr(exc)})
