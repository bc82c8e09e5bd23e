"""The platform's rate limits, one lib for every service, in Redis across replicas.

- ``FixedWindow``: hits per bucket in fixed windows of the clock (chat's per-user request and
  per-key token limits, the gateway's edge limit and failed API key attempts), counted with
  the ``limits`` library's Redis storage on the service's own connection pool, compared after
  counting; ``WindowCount`` says how far a bucket is and when its window turns.
- ``SlotCounters``: attempts that take a slot in several counters at once before they are
  judged, and give it back (auth's login throttle), a Lua script of its own because ``limits``
  acts on one key per call (``slots.py`` says why that is not enough).
- ``FailOpen``: when Redis does not answer, every limiter lets the request through and logs a
  warning on the service's logger (optionally leaving Redis alone for a while).
- ``rate_limited``: the 429 ``rate_limited`` answer with ``Retry-After``.
"""

from rate_limits.fail_open import FailOpen
from rate_limits.fixed_window import FixedWindow, WindowCount
from rate_limits.refusal import rate_limited
from rate_limits.slots import Reservation, SlotCounters

__all__ = [
    "FailOpen",
    "FixedWindow",
    "Reservation",
    "SlotCounters",
    "WindowCount",
    "rate_limited",
]
