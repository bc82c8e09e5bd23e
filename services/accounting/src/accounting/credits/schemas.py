from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictInt, model_validator

from accounting.credits.amounts import CreditsIn, CreditsOut
from accounting.schemas import CamelModel
from service_kit import Text, Timestamp

# Request strings are ``Text`` (a NUL is a 422, never a 500) and counts ``StrictInt``: a JSON
# integer, never ``false``, ``2.0`` or ``"2"``.
ModelId = Annotated[
    Text, Field(min_length=1, max_length=200, examples=["amazon.titan-text-express-v1"])
]
TokenCount = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
# A user named in a path: an id or a username.
UserRef = Annotated[Text, Field(description="A user id or username")]


class AllocateRequest(CamelModel):
    target_user_id: Text = Field(
        min_length=1, max_length=254, description="The user's id or username", examples=["user1"]
    )
    credits: CreditsIn
    expiry_days: StrictInt | None = Field(None, ge=1, le=3650)
    expires_at: Timestamp | None = Field(
        None,
        description="Alternative to expiryDays: an RFC 3339 time with its zone",
        examples=["2030-01-01T00:00:00Z"],
    )
    notes: Text | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one_expiry(self) -> "AllocateRequest":
        if self.expiry_days is not None and self.expires_at is not None:
            raise ValueError("give expiryDays or expiresAt, not both")
        return self


class AllocateResponse(CamelModel):
    id: UUID
    user_id: str
    credits: CreditsOut
    expires_at: datetime | None
    message: str


class AllocationOut(CamelModel):
    id: UUID
    total_credits: CreditsOut
    remaining_credits: CreditsOut
    expires_at: datetime | None
    notes: str | None


class BalanceResponse(CamelModel):
    user_id: str
    total_credits: CreditsOut = Field(description="Available plus reserved")
    reserved_credits: CreditsOut
    available_credits: CreditsOut
    active_allocations: list[AllocationOut]


class CheckRequest(CamelModel):
    credits: CreditsIn | None = None
    model_id: ModelId | None = None
    estimated_tokens: Annotated[StrictInt, Field(ge=1, le=10_000_000)] | None = None

    @model_validator(mode="after")
    def _credits_or_tokens(self) -> "CheckRequest":
        if self.credits is None and (self.model_id is None or self.estimated_tokens is None):
            raise ValueError("give credits, or modelId and estimatedTokens")
        return self


class CheckResponse(CamelModel):
    sufficient: bool
    available_credits: CreditsOut
    required_credits: CreditsOut


class CalculateRequest(CamelModel):
    model_id: ModelId
    tokens: TokenCount | None = Field(
        None, description="A total without a split is priced at the model's higher rate"
    )
    input_tokens: TokenCount | None = None
    output_tokens: TokenCount | None = None

    @model_validator(mode="after")
    def _some_tokens(self) -> "CalculateRequest":
        if self.tokens is None and self.input_tokens is None and self.output_tokens is None:
            raise ValueError("give tokens, or inputTokens and/or outputTokens")
        if self.tokens is not None and (self.input_tokens or self.output_tokens):
            raise ValueError("give tokens or the inputTokens/outputTokens split, not both")
        return self


class CalculateResponse(CamelModel):
    model_id: str
    credits: CreditsOut
