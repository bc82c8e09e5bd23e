from dataclasses import asdict
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from jwt_contract.dependencies import RequireAdmin
from provisioning.audit import repository
from provisioning.audit.schemas import AuditEntryOut, AuditPage
from provisioning.dependencies import Pool
from provisioning.schemas import PageNumber, PageSize, Pagination
from service_kit import Text, Timestamp, error_responses

router = APIRouter(prefix="/api/audit-logs", tags=["audit log"])

Filter = Annotated[Text | None, Query(min_length=1, max_length=200)]


@router.get(
    "",
    summary="Administrative actions, newest first (admin)",
    description="Filters combine. `action` ending in `*` matches a prefix (`team_key.*`); "
    "`actor` is a user id or username; `from` (inclusive) and `to` (exclusive) are RFC 3339 "
    "times with their zone.",
    responses=error_responses(401, 403, 422),
)
async def audit_logs(
    _: RequireAdmin,
    pool: Pool,
    actor: Filter = None,
    action: Filter = None,
    target_type: Annotated[Text | None, Query(alias="targetType", max_length=100)] = None,
    target_id: Annotated[Text | None, Query(alias="targetId", max_length=200)] = None,
    organization_id: Annotated[UUID | None, Query(alias="organizationId")] = None,
    since: Annotated[
        Timestamp | None, Query(alias="from", examples=["2030-01-01T00:00:00Z"])
    ] = None,
    until: Annotated[Timestamp | None, Query(alias="to", examples=["2030-01-02T00:00:00Z"])] = None,
    page: PageNumber = 1,
    limit: PageSize = 50,
) -> AuditPage:
    async with pool.acquire() as conn:
        entries, total = await repository.page(
            conn,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            organization_id=organization_id,
            since=since,
            until=until,
            offset=(page - 1) * limit,
            limit=limit,
        )
    return AuditPage(
        entries=[AuditEntryOut.model_validate(asdict(entry)) for entry in entries],
        pagination=Pagination.of(page=page, limit=limit, total=total),
    )
