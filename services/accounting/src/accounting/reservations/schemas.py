from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StrictBool, StrictInt, model_validator

from accounting.credits.amounts import CreditsOut
from accounting.credits.schemas import ModelId, TokenCount
from accounting.schemas import CamelModel
from service_kit import Text

SessionId = Annotated[Text, Field(min_length=1, max_length=200)]


class InitializeRequest(CamelModel):
    session_id: SessionId
    model_id: ModelId
    estimated_tokens: StrictInt = Field(
        ge=1, le=1_000_000, description="Most tokens the answer may use"
    )
    byok: StrictBool = Field(
        False,
        description="The answer is asked with the caller's own provider credential: held and "
        "charged at BYOK_FEE_PER_1K_TOKENS instead of the model's price (at least one "
        "micro-credit is held)",
    )


class InitializeResponse(CamelModel):
    session_id: str
    streaming_session_id: UUID
    allocated_credits: CreditsOut
    expires_at: datetime


class SettleRequest(CamelModel):
    """Names the reservation (its id, or the caller's latest open one for a chat session) and
    the tokens really used: a split (inputTokens/outputTokens) priced per direction, or a bare
    ``actualTokens`` priced at the model's higher rate. Never more than the hold is charged."""

    streaming_session_id: UUID | None = None
    session_id: SessionId | None = None
    actual_tokens: TokenCount | None = None
    input_tokens: TokenCount | None = None
    output_tokens: TokenCount | None = None
    success: StrictBool = True

    @model_validator(mode="after")
    def _names_a_reservation(self) -> "SettleRequest":
        if self.streaming_session_id is None and self.session_id is None:
            raise ValueError("give streamingSessionId or sessionId")
        if self.actual_tokens is not None and (self.input_tokens or self.output_tokens):
            raise ValueError("give actualTokens or the inputTokens/outputTokens split, not both")
        return self


class SettleResponse(CamelModel):
    streaming_session_id: UUID
    status: Literal["settled", "aborted", "expired"]
    used_credits: CreditsOut
    refund: CreditsOut


class ReservationOut(CamelModel):
    streaming_session_id: UUID
    user_id: str
    session_id: str
    model_id: str
    estimated_tokens: int
    allocated_credits: CreditsOut
    byok: bool
    created_at: datetime
    expires_at: datetime


class ActiveReservations(CamelModel):
    reservations: list[ReservationOut]


class ExtendRequest(CamelModel):
    """What the answer has used so far: if the hold still expires (the measuring service
    died), this is what is charged. Figures only ever grow; a smaller report changes nothing."""

    input_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    extend_seconds: StrictInt | None = Field(
        None, ge=5, le=86_400, description="How long from now (default RESERVATION_TTL_SECONDS)"
    )


class ExtendResponse(CamelModel):
    streaming_session_id: UUID
    expires_at: datetime
