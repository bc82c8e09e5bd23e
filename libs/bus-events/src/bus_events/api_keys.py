"""``api_key.revoked``: a key revoked, or rotated (then from the end of its grace period)."""

from typing import Annotated, ClassVar

from pydantic import Field, StrictFloat

from bus_events.bodies import BusEvent
from bus_events.fields import Identifier


class ApiKeyRevoked(BusEvent):
    """A team's key (``team_id``) or a user's personal key (``user_id``); its tokens are
    refused from ``effective_at`` (seconds since the epoch) on, or at once without it. A time
    that is not a finite number is refused: NaN or infinity would never come, and the key
    would never be revoked."""

    routing_key: ClassVar[str] = "api_key.revoked"
    version: ClassVar[int] = 1

    key_id: Identifier
    team_id: Identifier | None = None
    user_id: Identifier | None = None
    effective_at: Annotated[StrictFloat, Field(allow_inf_nan=False)] | None = None
