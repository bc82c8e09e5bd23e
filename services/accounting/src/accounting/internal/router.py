"""``/internal`` routes for the platform's own services (provisioning creates and funds
accounts here). Outside every gateway prefix, and guarded by ``X-Internal-Token``."""

from uuid import UUID

from fastapi import APIRouter, Response, status

from accounting.dependencies import Accounts, Credits
from accounting.internal.schemas import AccountOut, AccountRequest, GrantOut, GrantRequest
from service_kit import InternalCaller, error_responses

router = APIRouter(
    prefix="/internal",
    tags=["accounts (internal)"],
    dependencies=[InternalCaller],
    responses=error_responses(401, 403, 422),
)


@router.post("/accounts", summary="An owner's account, created when missing")
async def ensure_account(body: AccountRequest, credits: Credits) -> AccountOut:
    return await credits.ensure_account(body)


@router.get(
    "/accounts/{account_id}", summary="One account's balance", responses=error_responses(404)
)
async def account(account_id: UUID, accounts: Accounts, credits: Credits) -> AccountOut:
    return await credits.account_balance(await accounts.by_id(account_id))


@router.post(
    "/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Give an owner credits once per idempotency key (200 when already given)",
    responses=error_responses(400),
)
async def grant(body: GrantRequest, credits: Credits, response: Response) -> GrantOut:
    granted = await credits.grant(body)
    if not granted.applied:
        response.status_code = status.HTTP_200_OK
    return granted
