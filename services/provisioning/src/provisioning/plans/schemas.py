from datetime import datetime
from uuid import UUID

from pydantic import Field, field_validator

from provisioning.credits import CreditsIn, CreditsOut
from provisioning.model_groups.schemas import GroupName
from provisioning.schemas import CamelModel

PlanName = Field(min_length=1, max_length=100, examples=["starter"])


class PlanTerms(CamelModel):
    monthly_credits: CreditsIn = Field(description="Granted to each user on the plan every month")
    requests_per_minute: int = Field(ge=1, le=100_000)
    model_groups: list[GroupName] = Field(
        default_factory=list, max_length=50, description="Empty: no restriction"
    )
    effective_from: datetime | None = Field(
        None, description="When these terms apply (default: now; never in the past)"
    )

    @field_validator("effective_from")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("effectiveFrom needs a time zone, e.g. 2030-01-01T00:00:00Z")
        return value


class PlanCreate(PlanTerms):
    name: str = PlanName
    is_default: bool = Field(False, description="New users get the default plan")


class PlanVersionCreate(PlanTerms):
    name: str | None = Field(None, min_length=1, max_length=100, description="Renames the plan")


class PlanVersionOut(CamelModel):
    version: int
    monthly_credits: CreditsOut
    requests_per_minute: int
    model_groups: list[str]
    effective_from: datetime
    created_by: str
    created_at: datetime


class PlanOut(CamelModel):
    id: UUID
    name: str
    is_default: bool
    current: PlanVersionOut | None = Field(description="The version in force now")
    scheduled: list[PlanVersionOut] = Field(description="Versions that take effect later")
    created_at: datetime


class PlanList(CamelModel):
    plans: list[PlanOut]


class PlanHistory(CamelModel):
    plan_id: UUID
    name: str
    versions: list[PlanVersionOut] = Field(description="Oldest first; nothing is ever deleted")
