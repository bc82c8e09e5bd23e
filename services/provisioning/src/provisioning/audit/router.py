from datetime import datetime
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Query

from jwt_contract.dependencies import RequireAdmin
from provisioning.audit import repository
from provisioning.audit.schemas import AuditEntry, AuditPage
from provisioning.dependencies import Pool
from provisioning.schemas import PageNumber, PageSize, Pagination
from service_kit import ApiError, error_responses

router = APIRouter(prefix="/api/audit-logs", tags=["audit log"])

Filter = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get(
    "",
    summary="Administrative actions, newest first (admin)",
    description="Filters combine. `action` ending in `*` matches a prefix (`team_key.*`); "
    "`actor` is a user id or username; `from` is inclusive, `to` exclusive.",
    responses=error_responses(400, 401, 403, 422),
)
async def audit_logs(
    _: RequireAdmin,
    pool: Pool,
    actor: Filter = None,
    action: Filter = None,
    target_type: Annotated[str | None, Query(alias="targetType", max_length=100)] = None,
    target_id: Annotated[str | None, Query(alias="targetId", max_length=200)] = None,
    organization_id: Annotated[UUID | None, Query(alias="organizationId")] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    page: PageNumber = 1,
    limit: PageSize = 50,
) -> AuditPage:
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(400, "invalid_time", "from and to need a time zone, e.g. ...Z")
    async with pool.acquire() as conn:
        rows, total = await repository.page(
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
        entries=[_entry(row) for row in rows],
        pagination=Pagination.of(page=page, limit=limit, total=total),
    )


def _entry(row) -> AuditEntry:
    data = dict(row)
    for field in ("before", "after"):
        if data[field] is not None:
            data[field] = orjson.loads(data[field])
    return AuditEntry.model_validate(data)
