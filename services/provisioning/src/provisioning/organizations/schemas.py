from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictBool

from provisioning.memberships.schemas import OrgRole
from provisioning.schemas import CamelModel
from service_kit import Text

Name = Field(min_length=1, max_length=200, examples=["Acme Research"])


class OrganizationCreate(CamelModel):
    slug: Text = Field(
        min_length=1,
        max_length=100,
        description="3-63 lowercase letters, digits, hyphens; unique and never reused",
        examples=["acme-research"],
    )
    name: Text = Name
    dry_run: StrictBool = Field(False, description="Validate only: nothing is created")


class OrganizationUpdate(CamelModel):
    name: Text = Name


class OrganizationOut(CamelModel):
    id: UUID
    slug: str
    name: str
    owner_id: str
    created_at: datetime
    updated_at: datetime
    role: OrgRole | None = Field(None, description="The caller's role in it, if a member")


class OrganizationList(CamelModel):
    organizations: list[OrganizationOut]


class Problem(CamelModel):
    field: str
    code: str
    message: str


class DryRunResult(CamelModel):
    valid: bool
    slug: str
    name: str
    problems: list[Problem]
