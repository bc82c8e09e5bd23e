"""How long a loop waits after steps that failed in a row."""

from dataclasses import dataclass

# 2**64 times any sensible first delay is past every cap; a larger power would overflow a float
# after a long enough outage (about a thousand failures in a row).
_MOST_DOUBLINGS = 64


@dataclass(frozen=True)
class Backoff:
    """``first`` seconds after one failure, doubling with each further one, at most ``most``."""

    first: float
    most: float

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed steps in a row (1 for the first)."""
        doublings = min(max(failures - 1, 0), _MOST_DOUBLINGS)
        return min(self.most, self.first * 2.0**doublings)
