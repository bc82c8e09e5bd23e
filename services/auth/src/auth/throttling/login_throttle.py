"""Login throttling in Redis: failures are counted per (login, client address) and per address.

Counting per pair, not per account, keeps an attacker from locking a user out from elsewhere;
the per-address count caps password spraying across many accounts. Windows are fixed, starting
at the first failure. If Redis is unreachable, logins are let through (argon2 still bounds the
guessing rate) and a warning is logged.
"""

import hashlib
import logging

import redis.asyncio as redis

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(
        self, client: redis.Redis, *, max_failures: int, max_failures_per_ip: int, window: int
    ) -> None:
        self._redis = client
        self._max_pair = max_failures
        self._max_ip = max_failures_per_ip
        self._window = window

    @staticmethod
    def _keys(login: str, ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
        return f"auth:login-failures:{digest}:{ip}", f"auth:login-failures-ip:{ip}"

    async def retry_after(self, login: str, ip: str) -> int | None:
        """Seconds until this login may be tried again from ``ip``; None when it may now."""
        pair_key, ip_key = self._keys(login, ip)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(pair_key).ttl(pair_key).get(ip_key).ttl(ip_key)
                pair_count, pair_ttl, ip_count, ip_ttl = await pipe.execute()
        except redis.RedisError as exc:
            log.warning("login throttle unavailable", extra={"error": repr(exc)})
            return None
        waits = []
        if pair_count is not None and int(pair_count) >= self._max_pair:
            waits.append(pair_ttl)
        if ip_count is not None and int(ip_count) >= self._max_ip:
            waits.append(ip_ttl)
        return max(max(waits), 1) if waits else None

    async def record_failure(self, login: str, ip: str) -> None:
        pair_key, ip_key = self._keys(login, ip)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in (pair_key, ip_key):
                    pipe.incr(key).expire(key, self._window, nx=True)
                await pipe.execute()
        except redis.RedisError as exc:
            log.warning("login throttle unavailable", extra={"error": repr(exc)})

    async def clear(self, login: str, ip: str) -> None:
        pair_key, _ = self._keys(login, ip)
        try:
            await self._redis.delete(pair_key)
        except redis.RedisError as exc:
            log.warning("login throttle unavailable", extra={"error": repr(exc)})
