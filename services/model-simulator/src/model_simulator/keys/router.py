"""``GET /sim/requests``: which key the last requests came with (development and test only)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from model_simulator.keys.record import RequestRecord, RequestRecords
from service_kit import CamelModel

router = APIRouter(prefix="/sim/requests", tags=["simulator control (development and test only)"])


class RequestRecordList(CamelModel):
    requests: list[RequestRecord]


@router.get(
    "",
    summary="The last provider requests, newest first, each with its key's fingerprint (16 hex "
    "digits of the SHA-256 of the API key or AWS access key id; never the key)",
)
async def recent_requests(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> RequestRecordList:
    records: RequestRecords = request.app.state.request_records
    return RequestRecordList(requests=records.newest_first(limit))
