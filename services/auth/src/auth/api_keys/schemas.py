from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

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


def _not_enforced_yet(value: object) -> object:
    if value is not None:
        raise PydanticCustomError(
            "not_supported", "not supported yet: this limit is not enforced, so it is refused"
        )
    return value


NOT_ENFORCED = (
    "Not yet enforced: refused (422 `validation_error`). A limit the platform does not "
    "enforce is never accepted."
)


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
    max_budget_credits: Annotated[Decimal | None, AfterValidator(_not_enforced_yet)] = Field(
        None, description=NOT_ENFORCED
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
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class MintedPersonalKey(PersonalKeyOut):
    key: str = Field(description="`sk-...`, shown once: only its hash is stored")


class PersonalKeyList(CamelModel):
    keys: list[PersonalKeyOut]
