from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, status

from accounting.credits.schemas import UserRef
from accounting.dependencies import Accounts, Usage, UsageRecorder
from accounting.usage.schemas import (
    RecordUsageRequest,
    RecordUsageResponse,
    SystemStats,
    UsageStats,
)
from jwt_contract.dependencies import (
    CurrentPrincipal,
    OnBehalfOf,
    RequireAdmin,
    RequireSupervisor,
)
from service_kit import error_responses

router = APIRouter(prefix="/api/usage", tags=["usage"])

Days = Annotated[int, Query(ge=1, le=366, description="How many days back")]
KeyFilter = Annotated[
    UUID | None,
    Query(
        alias="keyId",
        description="Only what was made with this API key (of the user's: another's is empty)",
    ),
]


@router.post(
    "/record",
    status_code=status.HTTP_201_CREATED,
    summary="Charge measured usage straight to the account of the user in X-On-Behalf-Of "
    "(never below zero, nor past the budget of the API key their token was exchanged for: "
    "the rest is recorded as unpaid); service only (usage:record)",
    responses=error_responses(401, 403, 422),
)
async def record(
    body: RecordUsageRequest,
    _: UsageRecorder,
    principal: OnBehalfOf,
    usage: Usage,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RecordUsageResponse:
    return await usage.record(principal, body, idempotency_key)


@router.get(
    "/stats",
    summary="The caller's usage by model, by day and by API key",
    description="`byKey` is what each of the caller's API keys was used for in the window, "
    "with the key's spend, holds and budget of all time; `keyId` limits every figure to one "
    "key.",
    responses=error_responses(401, 422),
)
async def own_stats(
    principal: CurrentPrincipal, usage: Usage, days: Days = 30, key_id: KeyFilter = None
) -> UsageStats:
    return await usage.user_stats(principal.user_id, days, key_id)


@router.get(
    "/stats/{user_id}",
    summary="A user's usage, by user id or username (supervisor, admin)",
    responses=error_responses(401, 403, 404, 422),
)
async def user_stats(
    user_id: UserRef,
    _: RequireSupervisor,
    accounts: Accounts,
    usage: Usage,
    days: Days = 30,
    key_id: KeyFilter = None,
) -> UsageStats:
    account = await accounts.user_account(user_id)
    return await usage.user_stats(account.owner_id, days, key_id)


@router.get(
    "/system-stats",
    summary="Usage across all users: totals, by model, by day, top users (admin)",
    responses=error_responses(401, 403),
)
async def system_stats(
    _: RequireAdmin,
    usage: Usage,
    days: Days = 30,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SystemStats:
    return await usage.system_stats(days, top)
