from datetime import date
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from accounting.credits.amounts import CreditsIn, CreditsOut
from accounting.credits.schemas import ModelId, TokenCount
from accounting.schemas import CamelModel
from service_kit import Text

Name = Annotated[Text, Field(min_length=1, max_length=100)]

METADATA_MAX_KEYS = 16
METADATA_MAX_KEY_LENGTH = 100
METADATA_MAX_DEPTH = 4
METADATA_MAX_BYTES = 4096


def _bounded(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` when it is small: a few keys, shallow, a few KiB as JSON."""
    if len(metadata) > METADATA_MAX_KEYS:
        raise PydanticCustomError(
            "metadata_too_large", "has at most {max} keys", {"max": METADATA_MAX_KEYS}
        )
    if any(len(key) > METADATA_MAX_KEY_LENGTH for key in metadata):
        raise PydanticCustomError(
            "metadata_too_large",
            "keys are at most {max} characters",
            {"max": METADATA_MAX_KEY_LENGTH},
        )
    if _depth_over(metadata, METADATA_MAX_DEPTH):
        raise PydanticCustomError(
            "metadata_too_deep", "nests at most {max} levels", {"max": METADATA_MAX_DEPTH}
        )
    try:
        size = len(orjson.dumps(metadata))
    except orjson.JSONEncodeError:
        raise PydanticCustomError("metadata_invalid", "must be plain JSON") from None
    if size > METADATA_MAX_BYTES:
        raise PydanticCustomError(
            "metadata_too_large",
            "is at most {max} bytes as JSON",
            {"max": METADATA_MAX_BYTES},
        )
    return metadata


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels (``value`` is level 1)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    Field(
        description=f"Kept for the caller; not stored. A JSON object of at most "
        f"{METADATA_MAX_KEYS} keys, nesting at most {METADATA_MAX_DEPTH} levels, at most "
        f"{METADATA_MAX_BYTES} bytes as JSON",
        json_schema_extra={"maxProperties": METADATA_MAX_KEYS},
    ),
]


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
    metadata: Metadata | None = None

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


class KeyUsage(Totals):
    """Usage made with one API key in the window; its spend, holds and budget of all time."""

    key_id: UUID
    spent_credits: CreditsOut = Field(description="What the key has spent in all")
    held_credits: CreditsOut = Field(description="What its answers in progress hold now")
    max_budget_credits: CreditsOut | None = Field(
        description="Its budget (a personal key's `maxBudgetCredits`); none = no limit"
    )


class UserUsage(Totals):
    user_id: str
    username: str | None


class UsageStats(CamelModel):
    user_id: str
    days: int
    key_id: UUID | None = Field(description="The key the figures are limited to, if any")
    totals: Totals
    byok: Totals = Field(
        description="The part of the totals asked with the caller's own provider credentials "
        "(BYOK), charged BYOK_FEE_PER_1K_TOKENS instead of the models' prices"
    )
    by_model: list[ModelUsage]
    by_day: list[DayUsage]
    by_key: list[KeyUsage] = Field(
        description="Usage made with each API key (`keyId`); usage without a key is in the "
        "totals only"
    )


class SystemStats(CamelModel):
    days: int
    totals: Totals
    users: int
    by_model: list[ModelUsage]
    by_day: list[DayUsage]
    top_users: list[UserUsage]
