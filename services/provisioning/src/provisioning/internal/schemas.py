from uuid import UUID

from pydantic import Field

from provisioning.memberships.schemas import OrgRole
from provisioning.schemas import CamelModel


class TeamAccount(CamelModel):
    id: UUID
    account_id: UUID = Field(description="The team's credit account in accounting")


class OrganizationAccess(CamelModel):
    """A user's standing in a live organization, and the organization's teams."""

    role: OrgRole | None = Field(description="The user's role in it; null: not a member")
    teams: list[TeamAccount] = Field(description="Every team of the organization, oldest first")
