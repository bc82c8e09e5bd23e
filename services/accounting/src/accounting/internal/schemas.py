from datetime import datetime
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from accounting.accounts.repository import OwnerType
from accounting.credits.amounts import CreditsIn, CreditsOut
from accounting.schemas import CamelModel
from service_kit import Text


class AccountRequest(CamelModel):
    owner_type: OwnerType
    owner_id: Text = Field(min_length=1, max_length=100, description="A user id or a team id")
    username: Text | None = Field(None, max_length=100, description="Users only")


class AccountOut(CamelModel):
    account_id: UUID
    owner_type: OwnerType
    owner_id: str
    available_credits: CreditsOut
    reserved_credits: CreditsOut
    total_credits: CreditsOut = Field(description="Available plus reserved")


class GrantRequest(AccountRequest):
    credits: CreditsIn
    idempotency_key: Text = Field(
        min_length=1,
        max_length=200,
        description="The same key grants once, however often it is sent",
        examples=["plan-grant:7d0c…:2026-11"],
    )
    expires_at: datetime | None = None
    notes: Text | None = Field(None, max_length=500)
    granted_by: Text = Field(min_length=1, max_length=100, description="Who asked (for audit)")

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


class TransferRequest(CamelModel):
    """Move credits from an owner's available balance to another account: nothing is created.

    The target is named by ``toAccountId``, or by ``toOwnerType`` and ``toOwnerId`` (that
    owner's account is created when missing, and not at all when the transfer is refused).
    """

    from_owner_type: OwnerType
    from_owner_id: Text = Field(min_length=1, max_length=100, description="A user id or a team id")
    to_account_id: UUID | None = None
    to_owner_type: OwnerType | None = None
    to_owner_id: Text | None = Field(None, min_length=1, max_length=100)
    credits: CreditsIn
    idempotency_key: Text = Field(
        min_length=1,
        max_length=200,
        description="The same key transfers once; reusing it for another transfer → 422",
        examples=["team-initial:0b7c…"],
    )
    requested_by: Text = Field(min_length=1, max_length=100, description="Who asked (for audit)")
    notes: Text | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one_target(self) -> "TransferRequest":
        by_account = self.to_account_id is not None
        by_owner = self.to_owner_type is not None and self.to_owner_id is not None
        half_an_owner = (self.to_owner_type is None) != (self.to_owner_id is None)
        if by_account == by_owner or half_an_owner:
            raise ValueError("give toAccountId, or toOwnerType and toOwnerId")
        return self


class TransferOut(CamelModel):
    transfer_id: UUID
    from_account_id: UUID
    to_account_id: UUID
    credits: CreditsOut
    from_available_credits: CreditsOut = Field(description="The source's available credits now")
    to_available_credits: CreditsOut = Field(description="The target's available credits now")
    applied: bool = Field(description="False when this idempotency key had already transferred")
