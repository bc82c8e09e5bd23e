from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictInt

from provisioning.schemas import CamelModel
from service_kit import Text


class KeyCreate(CamelModel):
    name: Text = Field(min_length=1, max_length=100, examples=["ci pipeline"])
    expires_in_days: StrictInt | None = Field(
        None, ge=1, le=3650, description="Omit: never expires"
    )


class KeyRotate(CamelModel):
    grace_period_seconds: StrictInt = Field(
        0, ge=0, le=30 * 86400, description="How long the old key keeps working"
    )


class MintedKey(CamelModel):
    id: UUID
    key: str = Field(description="`sk-...`: shown only in this response; only a hash is kept")
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
