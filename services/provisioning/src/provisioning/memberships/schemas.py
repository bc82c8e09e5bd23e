from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from provisioning.schemas import CamelModel
from service_kit import Text

OrgRole = Literal["owner", "admin", "member"]


class MemberAdd(CamelModel):
    username: Text | None = Field(None, min_length=1, max_length=100, examples=["user2"])
    email: Text | None = Field(None, min_length=3, max_length=254)
    role: OrgRole = "member"

    @model_validator(mode="after")
    def _one_way_to_name(self) -> "MemberAdd":
        if (self.username is None) == (self.email is None):
            raise ValueError("give username or email (one of them)")
        return self

    @property
    def login(self) -> str:
        return (self.username or self.email or "").strip()


class MemberOut(CamelModel):
    organization_id: UUID
    user_id: str
    username: str
    email: str | None = Field(
        None, description="Only to platform admins and to the member themself (else absent)"
    )
    role: OrgRole
    added_by: str
    created_at: datetime


class MemberList(CamelModel):
    members: list[MemberOut]
