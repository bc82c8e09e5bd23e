"""What a probe found, and the rule that turns it into a model's status.

- **unavailable**: the probe call failed (refused, or not answered within the timeout), other
  than by throttling. Requests for it are refused at once (503 ``model_unavailable``).
- **degraded**: it answered, but slower than ``MODEL_DEGRADED_LATENCY_MS``, or it throttled
  the probe (429: there, but busy). Requests go through.
- **available**: it answered in time.

The provider's model list does not decide: a list can be refused (an IAM policy allowing only
``InvokeModel``) or not name ids that work (Bedrock inference profiles). It is reported
(``listed``) and names the cause when a call fails.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Status = Literal["available", "degraded", "unavailable"]


class ProbeError(Exception):
    """A probe call that failed; ``reason`` is safe to show a client."""

    def __init__(self, reason: str, *, throttled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.throttled = throttled


@dataclass(frozen=True)
class Timed:
    """How long a probe call took and how it failed (``error`` None: it answered)."""

    latency_ms: int
    error: ProbeError | None = None


class ModelCheck(BaseModel):
    model_id: str
    provider: str
    status: Status
    checked_at: datetime
    latency_ms: int
    listed: bool | None  # None: the provider's list could not be read
    reason: str | None = None


class ProviderCheck(BaseModel):
    provider: str
    checked_at: datetime
    latency_ms: int
    model_ids: list[str] | None  # None: the list could not be read
    error: str | None = None


class HealthSnapshot(BaseModel):
    """One probe of every model, as stored in Redis."""

    checked_at: datetime
    models: dict[str, ModelCheck]
    providers: dict[str, ProviderCheck]


def judge(
    model_id: str,
    provider: str,
    call: Timed,
    listed: bool | None,
    *,
    degraded_latency_ms: int,
    checked_at: datetime,
) -> ModelCheck:
    status: Status = "available"
    reason = None
    if call.error is not None and call.error.throttled:
        status, reason = "degraded", call.error.reason
    elif call.error is not None:
        status = "unavailable"
        unlisted = " and its model list does not name it" if listed is False else ""
        reason = call.error.reason + unlisted
    elif call.latency_ms > degraded_latency_ms:
        status = "degraded"
        reason = f"answered in {call.latency_ms} ms (slower than {degraded_latency_ms} ms)"
    return ModelCheck(
        model_id=model_id,
        provider=provider,
        status=status,
        checked_at=checked_at,
        latency_ms=call.latency_ms,
        listed=listed,
        reason=reason,
    )
