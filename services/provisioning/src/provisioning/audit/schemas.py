from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from provisioning.schemas import CamelModel, Pagination


class AuditEntryOut(CamelModel):
    id: int
    at: datetime
    actor_id: str = Field(description='A user id, or "system" for the platform itself')
    actor_username: str | None
    action: str = Field(examples=["team.created", "team_key.revoked", "plan.version_created"])
    target_type: str
    target_id: str
    organization_id: UUID | None
    before: Any | None
    after: Any | None
    request_id: str | None


class AuditPage(CamelModel):
    entries: list[AuditEntryOut]
    pagination: Pagination
