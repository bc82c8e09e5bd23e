from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, PlainSerializer, StrictInt

from service_kit import CamelModel, Text


class MintKeyRequest(CamelModel):
    team_id: Text = Field(min_length=1, max_length=100)
    organization_id: Text | None = Field(
        None,
        max_length=100,
        description="The team's organization: deleting it revokes the key and its tokens",
    )
    account_id: UUID = Field(description="The team's credit account in accounting")
    name: Text = Field(min_length=1, max_length=100)
    models: list[Text] | None = Field(
        None, description="Model ids the key may use (the team's model groups); None = any"
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    created_by: Text = Field(min_length=1, max_length=100, description="Who asked (for audit)")


class MintedKey(CamelModel):
    id: UUID
    key: str = Field(description="Shown once; only its hash is stored")
    prefix: str
    expires_at: datetime | None


class KeyOut(CamelModel):
    id: UUID
    team_id: str
    name: str
    prefix: str
    models: list[str] | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaced_by: UUID | None


class KeyList(CamelModel):
    keys: list[KeyOut]


class RotateRequest(CamelModel):
    grace_period_seconds: int = Field(0, ge=0, le=30 * 86400)
    created_by: Text = Field(min_length=1, max_length=100)


class ExchangeRequest(CamelModel):
    api_key: str = Field(min_length=1, max_length=200)


class ExchangeResponse(CamelModel):
    access_token: str
    expires_in: int


MICRO = 1_000_000


def budget_micro(credits: Decimal | None) -> int | None:
    """A budget in integer micro-credits, as stored and put in the key's tokens."""
    return None if credits is None else int(credits * MICRO)


def _credits_json(micro: int) -> int | float:
    """Micro-credits as a JSON number of credits: exact, as every amount is below 10^15."""
    return micro // MICRO if micro % MICRO == 0 else micro / MICRO


# A budget in a response: stored as micro-credits, rendered as a JSON number of credits.
BudgetOut = Annotated[
    int,
    PlainSerializer(_credits_json, return_type=int | float, when_used="json"),
    Field(description="Credits (a decimal number with at most 6 fractional digits)"),
]


class PersonalKeyRequest(CamelModel):
    # An unknown field could be a limit the caller believes is enforced: refused too.
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100, examples=["laptop script"])
    expires_in_days: StrictInt | None = Field(
        None, ge=1, le=3650, description="Days until the key stops working; none = never"
    )
    models: list[Annotated[Text, Field(min_length=1, max_length=200)]] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Model ids the key may use (of those the role enduser may); none = all",
    )
    requests_per_minute: StrictInt | None = Field(
        None, ge=1, le=100_000, description="The gateway's limit for this key, per minute"
    )
    max_budget_credits: Decimal | None = Field(
        None,
        gt=0,
        lt=1_000_000_000,
        decimal_places=6,
        examples=[25, "12.5"],
        description="The most this key's answers may spend in all, in credits (> 0, below "
        "10^9, at most 6 decimal places), enforced by accounting: an answer whose hold would "
        "take the key's spend and holds past it is refused with 402 `key_budget_exceeded`, "
        "even under concurrent calls. Charged to your own credits as before; none = no limit "
        "but your balance",
    )
    tokens_per_minute: StrictInt | None = Field(
        None,
        ge=1,
        le=100_000_000,
        description="Tokens (input + output, as charged) this key may use per minute, "
        "enforced by chat: checked before an answer starts and counted when it ends, so one "
        "answer may pass the limit; the next is then refused (429) until the minute turns",
    )


class PersonalKeyOut(CamelModel):
    id: UUID
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    models: list[str] | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    max_budget_credits: BudgetOut | None = Field(
        validation_alias="max_budget_micro",
        description="The key's budget in credits (accounting refuses past it); none = no limit",
    )
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class MintedPersonalKey(PersonalKeyOut):
    key: str = Field(description="`sk-...`, shown once: only its hash is stored")


class PersonalKeyList(CamelModel):
    keys: list[PersonalKeyOut]
