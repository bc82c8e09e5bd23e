import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from provisioning.memberships.schemas import OrgRole
from provisioning.schemas import CamelModel
from service_kit import Text

# One '@' between a local part and a domain, with no spaces or control characters: what the
# address is otherwise, only its owner's inbox (and auth's registration) can say.
_ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


def _address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.fullmatch(value):
        raise ValueError("not an email address")
    return value


Email = Annotated[
    Text,
    Field(min_length=3, max_length=254, examples=["new.colleague@example.com"]),
    AfterValidator(_address),
]


class InvitationCreate(CamelModel):
    email: Email
    role: OrgRole = "member"


class InvitationOut(CamelModel):
    """An invitation as the organization's owners and admins see it (the address they typed)."""

    id: UUID
    organization_id: UUID
    email: str
    role: OrgRole
    invited_by: str = Field(description="The user id of whoever invited")
    invited_by_username: str | None
    created_at: datetime
    expires_at: datetime


class InvitationList(CamelModel):
    invitations: list[InvitationOut]


class ReceivedInvitation(InvitationOut):
    """An invitation as its invitee sees it, with the organization it is for."""

    organization_slug: str
    organization_name: str


class ReceivedInvitationList(CamelModel):
    invitations: list[ReceivedInvitation]
