from datetime import datetime
from uuid import UUID

from pydantic import Field

from provisioning.credits import CreditsIn, CreditsOut
from provisioning.model_groups.schemas import GroupName
from provisioning.schemas import CamelModel


class TeamCreate(CamelModel):
    organization_id: UUID
    name: str = Field(min_length=1, max_length=100, examples=["research"])
    model_groups: list[GroupName] = Field(
        min_length=1,
        max_length=50,
        description="Names of model groups; the team's members and keys use only their models",
    )
    initial_credits: CreditsIn | None = Field(
        None, description="Allocated to the team's own account in accounting"
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
