"""Per-key token limits (a personal key's ``tokensPerMinute`` claim) in Redis: fixed
one-minute windows per key, like ``RequestLimiter``'s.

Enforced here rather than at the gateway because chat is where tokens are measured. The
check is before an answer starts (``StreamService.start``), the count when it ends (the
producer, with the tokens charged), so an answer may take its window past the limit: nobody
knows an answer's length before it is generated (OpenAI's token limits behave the same). The
next request of that key is then refused (429) until the window turns. An answer is counted in
the window it ends in.
"""

import logging
import time
from dataclasses import dataclass

import redis.asyncio as redis

from chat.limits.request_limit import WINDOW_SECONDS
from jwt_contract import Principal
from service_kit import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyTokenLimit:
    key_id: str
    per_minute: int


def key_token_limit(principal: Principal) -> KeyTokenLimit | None:
    """The limit a key's token carries; None for any other token (no key, or no limit)."""
    key_id = principal.claims.get("keyId")
    per_minute = principal.claims.get("tokensPerMinute")
    if not isinstance(key_id, str) or type(per_minute) is not int or per_minute < 1:
        return None
    return KeyTokenLimit(key_id, per_minute)


def current_window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def window_key(key_id: str, window: int) -> str:
    return f"chat:key-tokens:{key_id}:{window}"


class KeyTokenLimiter:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def check(self, limit: KeyTokenLimit | None) -> None:
        """429 when the key has used its tokens of this window already."""
        if limit is None:
            return
        try:
            used = await self._redis.get(window_key(limit.key_id, current_window()))
        except redis.RedisError as exc:
            # As the request limit: credits still bound what a key's owner can spend.
            log.warning("key token limit unavailable", extra={"error": repr(exc)})
            return
        if used is not None and int(used) >= limit.per_minute:
            retry_after = max(1, WINDOW_SECONDS - int(time.time() % WINDOW_SECONDS))
            raise ApiError(
                429,
                "rate_limited",
                f"At most {limit.per_minute} tokens per minute for this API key; "
                f"try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )

    async def add(self, limit: KeyTokenLimit | None, tokens: int) -> None:
        """Count an ended answer's tokens in the key's current window."""
        if limit is None or tokens <= 0:
            return
        key = window_key(limit.key_id, current_window())
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                await pipe.incrby(key, tokens).expire(key, 2 * WINDOW_SECONDS).execute()
        except redis.RedisError as exc:
            log.warning("key token limit unavailable", extra={"error": repr(exc)})
