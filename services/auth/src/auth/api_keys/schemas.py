from datetime import datetime
from uuid import UUID

from pydantic import Field

from auth.users.schemas import CamelModel
from service_kit import Text


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
