from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from accounting.credits.amounts import CreditsIn, CreditsOut
from accounting.schemas import CamelModel

OwnerType = Literal["user", "team"]


class AccountRequest(CamelModel):
    owner_type: OwnerType
    owner_id: str = Field(min_length=1, max_length=100, description="A user id or a team id")
    username: str | None = Field(None, max_length=100, description="Users only")


class AccountOut(CamelModel):
    account_id: UUID
    owner_type: OwnerType
    owner_id: str
    available_credits: CreditsOut
    reserved_credits: CreditsOut
    total_credits: CreditsOut = Field(description="Available plus reserved")


class GrantRequest(AccountRequest):
    credits: CreditsIn
    idempotency_key: str = Field(
        min_length=1,
        max_length=200,
        description="The same key grants once, however often it is sent",
        examples=["plan-grant:7d0c…:2026-11"],
    )
    expires_at: datetime | None = None
    notes: str | None = Field(None, max_length=500)
    granted_by: str = Field(min_length=1, max_length=100, description="Who asked (for audit)")

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expiresAt needs a time zone, e.g. 2030-01-01T00:00:00Z")
        return value


class GrantOut(CamelModel):
    allocation_id: UUID
    account_id: UUID
    credits: CreditsOut
    applied: bool = Field(description="False when this idempotency key had already granted")
