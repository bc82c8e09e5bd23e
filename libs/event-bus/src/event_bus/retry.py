"""How long a consumer waits before running a failed handler again."""

from dataclasses import dataclass

from background_loops import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from ``initial_delay`` doubling up to ``max_delay`` seconds.

    A transient failure (a database down) is retried this way for as long as it lasts; an
    unexpected exception only until the handler has failed ``max_attempts`` times in a row,
    and then the event is dead-lettered.
    """

    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_attempts: int = 5

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1 for the first)."""
        return Backoff(self.initial_delay, self.max_delay).delay(failures)
