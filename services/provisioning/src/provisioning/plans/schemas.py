from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictBool, StrictInt

from provisioning.credits import CreditsIn, CreditsOut
from provisioning.model_groups.schemas import GroupName
from provisioning.schemas import CamelModel
from service_kit import Text, Timestamp

PlanName = Field(min_length=1, max_length=100, examples=["starter"])


class PlanTerms(CamelModel):
    monthly_credits: CreditsIn = Field(description="Granted to each user on the plan every month")
    requests_per_minute: StrictInt = Field(ge=1, le=100_000)
    model_groups: list[GroupName] = Field(
        default_factory=list, max_length=50, description="Empty: no restriction"
    )
    effective_from: Timestamp | None = Field(
        None,
        description="When these terms apply: an RFC 3339 time with its zone (default: now; "
        "never in the past)",
        examples=["2030-01-01T00:00:00Z"],
    )


class PlanCreate(PlanTerms):
    name: Text = PlanName
    is_default: StrictBool = Field(False, description="New users get the default plan")


class PlanVersionCreate(PlanTerms):
    name: Text | None = Field(None, min_length=1, max_length=100, description="Renames the plan")


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


class PlanOffer(CamelModel):
    """A plan as a user sees it: what it gives, not who made it or what is scheduled."""

    id: UUID
    name: str
    is_default: bool
    monthly_credits: CreditsOut
    requests_per_minute: int
    models: list[str] | None = Field(
        description="The model ids the plan's model groups allow; null: every model"
    )


class PlanOffers(CamelModel):
    plans: list[PlanOffer]


class CurrentPlan(CamelModel):
    plan: PlanOffer | None = Field(description="Null when the caller is on no plan")
    assigned_at: datetime | None
