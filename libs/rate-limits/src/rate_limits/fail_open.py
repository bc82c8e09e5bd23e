"""What a limiter does when Redis does not answer: it lets the request through.

Availability over strictness, in every service: chat's credits and auth's argon2 still bound
what a caller can spend or guess, and the gateway stays up without its cache. The limiter logs
a warning (on the service's own logger, with the error) and, with ``backoff_seconds``, leaves
Redis alone that long, so each hit does not pay for a failed connection attempt (and log it).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from limits.errors import StorageError

# limits wraps redis-py's errors in StorageError; redis-py lets a few socket errors through.
STORE_ERRORS: tuple[type[Exception], ...] = (StorageError, redis.RedisError, OSError)


@dataclass
class FailOpen:
    """Let hits through when Redis fails: warn ``message`` on ``log``, then leave Redis alone
    for ``backoff_seconds`` (0: try it again at the next hit) on ``clock``."""

    log: logging.Logger
    message: str
    backoff_seconds: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _skip_until: float = field(default=0.0, init=False)

    @property
    def skipping(self) -> bool:
        """Whether Redis failed less than ``backoff_seconds`` ago (hits go through uncounted)."""
        return self.backoff_seconds > 0 and self.clock() < self._skip_until

    def unavailable(self, exc: Exception) -> None:
        """Redis failed with ``exc``: warn, and back off when configured to."""
        extra: dict[str, object] = {"error": repr(exc)}
        if self.backoff_seconds > 0:
            self._skip_until = self.clock() + self.backoff_seconds
            extra["retryInSeconds"] = self.backoff_seconds
        self.log.warning(self.message, extra=extra)
