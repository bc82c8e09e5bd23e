"""An answer's credit hold, kept while it streams: extended every ``every`` seconds with the
tokens generated so far (accounting charges that report should the hold still expire)."""

import logging
import time

from chat.accounting.client import AccountingClient, HoldLost
from service_kit import ApiError

log = logging.getLogger(__name__)

# An answer whose hold could not be extended stops this long before the hold would expire, so
# everything it generated is still covered by the hold.
HOLD_SAFETY_SECONDS = 10


class HeldCredits:
    def __init__(
        self,
        accounting: AccountingClient,
        streaming_session_id: str,
        *,
        expires_at: float,
        every: float,
    ) -> None:
        self._accounting = accounting
        self._stream_id = streaming_session_id
        self.expires_at = expires_at  # wall-clock time
        self._every = every
        self._next = time.monotonic() + every

    def due(self, now: float) -> bool:
        """Whether it is time to extend the hold (``now`` from ``time.monotonic``)."""
        return now >= self._next

    async def extend(self, input_tokens: int, output_tokens: int) -> bool:
        """Extend the hold and report the progress so far; False when the answer must stop
        (the hold is gone, or accounting has not answered and it is about to expire)."""
        self._next = time.monotonic() + self._every
        try:
            expires_at = await self._accounting.extend(
                self._stream_id, input_tokens=input_tokens, output_tokens=output_tokens
            )
        except HoldLost:
            log.warning("hold lost", extra={"streamingSessionId": self._stream_id})
            return False
        except ApiError:
            left = self.expires_at - time.time()
            log.warning(
                "could not extend a hold",
                extra={"streamingSessionId": self._stream_id, "secondsLeft": left},
            )
            return left > HOLD_SAFETY_SECONDS + self._every
        self.expires_at = expires_at.timestamp()
        return True
