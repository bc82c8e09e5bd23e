from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from provisioning.credits import CreditsIn, CreditsOut
from provisioning.model_groups.schemas import GroupName
from provisioning.schemas import CamelModel
from service_kit import Text


class TeamCreate(CamelModel):
    organization_id: UUID
    name: Text = Field(min_length=1, max_length=100, examples=["research"])
    model_groups: list[GroupName] = Field(
        min_length=1,
        max_length=50,
        description="Names of model groups; the team's members and keys use only their models",
    )
    initial_credits: CreditsIn | None = Field(
        None,
        description="Moved from the caller's own available credits to the team's account, as "
        "`POST /api/teams/{id}/credits` does (a platform admin grants them instead); when the "
        "caller has less → 402 and no team is made",
    )


class TeamOut(CamelModel):
    id: UUID
    organization_id: UUID
    name: str
    model_groups: list[str]
    models: list[str] = Field(description="Every model the team's groups name")
    account_id: UUID = Field(description="The team's credit account in accounting")
    credits: CreditsOut | None = Field(
        description="Available credits; null when accounting could not be reached"
    )
    created_by: str
    created_at: datetime


class TeamList(CamelModel):
    teams: list[TeamOut]


class TeamFunding(CamelModel):
    credits: Annotated[CreditsIn, Field(gt=0)]


class TeamFundingOut(CamelModel):
    team_id: UUID
    account_id: UUID = Field(description="The team's credit account in accounting")
    credits: CreditsOut = Field(description="What this funding moved (or granted)")
    source: Literal["transfer", "grant"] = Field(
        description="`transfer`: out of the caller's own balance; `grant`: created by a "
        "platform admin"
    )
    transfer_id: UUID | None = Field(description="The ledger transfer (source `transfer`)")
    allocation_id: UUID | None = Field(description="The team's new allocation (source `grant`)")
    team_credits: CreditsOut | None = Field(
        description="The team's available credits now; null when accounting could not be reached"
    )
    caller_credits: CreditsOut | None = Field(
        description="The caller's own available credits now (source `transfer`)"
    )
