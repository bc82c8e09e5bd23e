"""Who is asking, for the edge limit: the verified caller, else the client's address.

A bearer token is verified offline here (the auth service's JWKS, like every service does), so
a limit bucket is never a string the client chose: rotating made-up tokens only ever lands in
the bucket of the address they come from. The gateway refuses no token itself; the services
answer 401 for what is not valid.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from jwt_contract import InvalidToken, TokenVerifier

log = logging.getLogger(__name__)

# A verified token is remembered this long at most (and never past its expiry): a client
# sends the same token again and again, and a signature check costs far more than a look-up.
REMEMBER_SECONDS = 60.0
MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class Caller:
    bucket: str  # user:<sub>, key:<keyId> (a token exchanged for an API key) or ip:<address>
    requests_per_minute: int | None = None  # the API key's own limit (its requestsPerMinute)


class Callers:
    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        max_entries: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._max_entries = max_entries
        self._clock = clock
        self._verified: dict[str, tuple[Caller, float]] = {}  # token -> (caller, until)

    async def identify(self, token: str | None, address: str) -> Caller:
        """The caller ``token`` proves (a user's access token), else the client at ``address``."""
        if not token:
            return Caller(f"ip:{address}")
        now = self._clock()
        known = self._verified.get(token)
        if known is not None and known[1] > now:
            return known[0]
        try:
            principal = await self._verifier.verify_async(token)
        except InvalidToken:
            return Caller(f"ip:{address}")
        except Exception:  # a token must never turn into a 500 at the front door
            log.exception("token verification failed unexpectedly")
            return Caller(f"ip:{address}")
        key_id = principal.claims.get("keyId")
        if isinstance(key_id, str) and key_id:
            rpm = principal.claims.get("requestsPerMinute")
            caller = Caller(f"key:{key_id}", _positive_int(rpm))
        else:
            caller = Caller(f"user:{principal.user_id}")
        if len(self._verified) >= self._max_entries:
            self._verified = {t: e for t, e in self._verified.items() if e[1] > now}
            while len(self._verified) >= self._max_entries:
                del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (caller, min(now + REMEMBER_SECONDS, principal.expires_at))
        return caller


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
