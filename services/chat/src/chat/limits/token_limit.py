"""Per-key token limits (a personal key's ``tokensPerMinute`` claim), one-minute windows per
key (``rate_limits.FixedWindow``), like ``RequestLimiter``'s.

Enforced here rather than at the gateway because chat is where tokens are measured. The
check is before an answer starts (``StreamService.start``), the count when it ends (the
producer, with the tokens charged), so an answer may take its window past the limit: nobody
knows an answer's length before it is generated (OpenAI's token limits behave the same). The
next request of that key is then refused (429) until the window turns. An answer is counted in
the window it ends in. If Redis does not answer, the limit is let through with a warning, as
the request limit: credits still bound what a key's owner can spend.
"""

import logging
import time
from dataclasses import dataclass

import redis.asyncio as redis

from chat.limits.request_limit import WINDOW_SECONDS
from jwt_contract import Principal
from rate_limits import FailOpen, FixedWindow, rate_limited

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
    """The minute an answer is counted in: its counter is ``chat:key-tokens:{key}:{minute}``."""
    return int(time.time() // WINDOW_SECONDS)


class KeyTokenLimiter:
    def __init__(self, client: redis.Redis) -> None:
        self._windows = FixedWindow(
            client,
            prefix="chat",
            fail_open=FailOpen(log, "key token limit unavailable"),
            window_seconds=WINDOW_SECONDS,
        )

    async def check(self, limit: KeyTokenLimit | None) -> None:
        """429 when the key has used its tokens of this window already."""
        if limit is None:
            return
        count = await self._windows.test(_bucket(limit), limit.per_minute, window=current_window())
        if count is not None and count.exceeded:
            raise rate_limited(
                f"At most {limit.per_minute} tokens per minute for this API key; "
                f"try again in {count.retry_after} s",
                count.retry_after,
            )

    async def add(self, limit: KeyTokenLimit | None, tokens: int) -> None:
        """Count an ended answer's tokens in the key's current window."""
        if limit is None or tokens <= 0:
            return
        await self._windows.hit(
            _bucket(limit), limit.per_minute, cost=tokens, window=current_window()
        )


def _bucket(limit: KeyTokenLimit) -> str:
    return f"key-tokens:{limit.key_id}"
