from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from accounting.credits.schemas import UserRef
from accounting.dependencies import Exports
from accounting.exports.encoding import COLUMNS
from accounting.exports.schemas import DIMENSIONS, Bound, ExportFormat, ExportRow
from accounting.exports.service import Export, ExportRequest
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import Text, error_responses

router = APIRouter(prefix="/api/usage", tags=["usage"])


class ExportResponse(StreamingResponse):
    """The export's first bytes, then the rest as they are read; the rest's generator (and
    with it the connection it reads from) is closed when the response ends, also when the
    client went away mid-stream."""

    def __init__(self, export: Export) -> None:
        self._rest = export.rest
        super().__init__(
            _resumed(export.first, export.rest),
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._rest.aclose()


async def _resumed(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    yield first
    del first
    async for chunk in rest:
        yield chunk


_CSV_EXAMPLE = (
    ",".join(COLUMNS)
    + "\r\n2030-01-01,8f14e45f-ceea-467f-a0e6-4b1e2c3d4e5f,,,"
    + "anthropic.claude-3-haiku-20240307-v1:0,2,120,800,1.03\r\n"
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": list[ExportRow],
        "description": "The rows, streamed as they are read: `text/csv` with a header row "
        f"({', '.join(COLUMNS)}; an empty cell for null), or with `format=json` one JSON "
        "array of rows, one row a line. A failure after the first bytes ends the transfer "
        "unfinished (no final chunk), never a short file that looks complete.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
        },
    },
    **error_responses(401, 403, 404, 422, 429, 503),
}


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Usage over a range by day, model, user, team and key, streamed as CSV or JSON "
    "(own; supervisors and admins: any user's; an organization's owners and admins: its "
    "teams')",
    description="Adds up the usage records of `[from, to)` (what the ledger charged for "
    "each answer and direct charge): the exported credits of a range equal the ledger's "
    "charges over it. `from` and `to` are dates (a whole UTC day; a date `to` includes its "
    "day) or RFC 3339 timestamps; `to` defaults to now, `from` to 30 days before `to`; at "
    "most `EXPORT_MAX_DAYS` (366) days (422 `invalid_range`, also when `from` is after "
    f"`to`). `groupBy` is a comma-separated choice of {', '.join(DIMENSIONS)} (default "
    "`day,model`; empty: one total row; anything else 422 `invalid_group_by`); rows are "
    "sorted by those dimensions, and one not grouped by is null. `userId` (id or "
    "username) exports another user's usage, for supervisors and admins (404 when unknown; "
    "anyone else naming another user gets 403). `organizationId` exports what its teams' "
    "accounts paid for, whoever made it, for the organization's owners and admins (and "
    "platform admins): 404 for an unknown or deleted organization, 403 for anyone else, 503 "
    "`provisioning_unavailable` while provisioning cannot say; rows not grouped by user have "
    "a null `userId`; with `userId` too, 422 `invalid_filter`. At most "
    "`EXPORT_MAX_CONCURRENT` exports stream at once per replica: 429 `too_many_exports` "
    "with `Retry-After` past it.",
    responses=_RESPONSES,
)
async def export_usage(
    principal: CurrentPrincipal,
    exports: Exports,
    start: Annotated[Bound | None, Query(alias="from")] = None,
    end: Annotated[Bound | None, Query(alias="to")] = None,
    group_by: Annotated[
        Text | None,
        Query(
            alias="groupBy",
            max_length=100,
            description=f"Comma-separated: any of {', '.join(DIMENSIONS)}",
            examples=["day,model"],
        ),
    ] = None,
    export_format: Annotated[ExportFormat, Query(alias="format")] = "csv",
    user_ref: Annotated[
        UserRef | None,
        Query(alias="userId", max_length=254, description="A user id or username"),
    ] = None,
    organization_id: Annotated[UUID | None, Query(alias="organizationId")] = None,
) -> ExportResponse:
    request = ExportRequest(start, end, group_by, export_format, user_ref, organization_id)
    return ExportResponse(await exports.start(principal, request))
