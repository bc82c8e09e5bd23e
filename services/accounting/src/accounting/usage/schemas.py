from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, model_validator

from accounting.credits.amounts import CreditsIn, CreditsOut
from accounting.credits.schemas import ModelId, TokenCount
from accounting.schemas import CamelModel

Name = Annotated[str, Field(min_length=1, max_length=100)]


class RecordUsageRequest(CamelModel):
    """Usage charged straight to the caller's account: an amount of credits, or tokens of a
    model priced from the configured table."""

    service: Name
    operation: Name
    credits: CreditsIn | None = None
    model_id: ModelId | None = None
    tokens: TokenCount | None = None
    input_tokens: TokenCount | None = None
    output_tokens: TokenCount | None = None
    metadata: dict[str, Any] | None = Field(None, description="Kept for the caller; not stored")

    @model_validator(mode="after")
    def _amount_or_tokens(self) -> "RecordUsageRequest":
        has_tokens = any(
            v is not None for v in (self.tokens, self.input_tokens, self.output_tokens)
        )
        if self.credits is None and not has_tokens:
            raise ValueError("give credits, or tokens (with modelId)")
        if self.credits is not None and has_tokens:
            raise ValueError("give credits or tokens, not both")
        if has_tokens and self.model_id is None:
            raise ValueError("tokens need a modelId to be priced")
        return self


class RecordUsageResponse(CamelModel):
    id: int
    charged_credits: CreditsOut
    unpaid_credits: CreditsOut


class UsageRecorded(CamelModel):
    """The body of a ``usage.recorded`` event (CONTRACT.md)."""

    model_config = CamelModel.model_config | {"extra": "ignore"}

    user_id: str = Field(min_length=1, max_length=200)
    account_id: UUID | None = None
    session_id: str = Field(min_length=1, max_length=200)
    streaming_session_id: UUID | None = None
    model_id: ModelId
    input_tokens: TokenCount
    output_tokens: TokenCount
    service: Name = "chat"
    operation: Name = "stream"


class Totals(CamelModel):
    credits: CreditsOut
    input_tokens: int
    output_tokens: int
    tokens: int
    requests: int


class ModelUsage(Totals):
    model_id: str | None


class DayUsage(Totals):
    date: date


class UserUsage(Totals):
    user_id: str
    username: str | None


class UsageStats(CamelModel):
    user_id: str
    days: int
    totals: Totals
    by_model: list[ModelUsage]
    by_day: list[DayUsage]


class SystemStats(CamelModel):
    days: int
    totals: Totals
    users: int
    by_model: list[ModelUsage]
    by_day: list[DayUsage]
    top_users: list[UserUsage]
