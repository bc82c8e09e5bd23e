"""What chat measured (``usage.recorded``) and what accounting tells of a balance running low
(``credits.low``)."""

from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import Field, StrictFloat, StrictInt

from bus_events.bodies import BusEvent
from bus_events.fields import Identifier, Name

# What a trusted service measured: an int however its JSON encoder wrote it (a strict count
# would send an event with 12.0 to the dead-letter queue, and the usage unpaid).
TokenCount = Annotated[int, Field(ge=0, le=10_000_000)]


class UsageRecorded(BusEvent):
    """Tokens an answer used: accounting settles the reservation ``streaming_session_id``
    names, or charges the account (``account_id``, else the user's own) directly."""

    routing_key: ClassVar[str] = "usage.recorded"
    version: ClassVar[int] = 1

    user_id: Identifier
    account_id: UUID | None = None
    session_id: Identifier
    streaming_session_id: UUID | None = None
    model_id: Identifier
    input_tokens: TokenCount
    output_tokens: TokenCount
    service: Name = "chat"
    operation: Name = "stream"
    # Asked with the caller's own provider credential: charged the BYOK fee, not the model's
    # price. Written only when true, so other events travel exactly as before (absent: False,
    # and consumers that do not know it ignore it).
    byok: bool = False

    def wire_body(self) -> dict[str, Any]:
        body = super().wire_body()
        if not self.byok:
            del body["byok"]
        return body


class CreditsLow(BusEvent):
    """An account fell below the low-credit threshold (announced once per crossing)."""

    routing_key: ClassVar[str] = "credits.low"
    version: ClassVar[int] = 1

    user_id: Identifier
    account_id: UUID
    # A JSON number of credits, exact: an int when whole (accounting's ``json_credits``).
    available_credits: StrictInt | StrictFloat
