"""``/internal`` routes for the platform's own services (provisioning creates and funds
accounts here, and moves credits between them). Outside every gateway prefix; each route needs a
service token with its scope (an end user's token is 403 ``service_only``)."""

from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from accounting.dependencies import Accounts, Credits, Transfers
from accounting.internal.schemas import (
    AccountOut,
    AccountRequest,
    GrantOut,
    GrantRequest,
    TransferOut,
    TransferRequest,
)
from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import ACCOUNTS_MANAGE, CREDITS_GRANT, CREDITS_TRANSFER
from service_kit import error_responses

router = APIRouter(
    prefix="/internal",
    tags=["accounts (internal)"],
    responses=error_responses(401, 403, 422),
)


@router.post(
    "/accounts",
    summary="An owner's account, created when missing (accounts:manage)",
    dependencies=[Depends(require_scope(ACCOUNTS_MANAGE))],
)
async def ensure_account(body: AccountRequest, credits: Credits) -> AccountOut:
    return await credits.ensure_account(body)


@router.get(
    "/accounts/{account_id}",
    summary="One account's balance (accounts:manage)",
    dependencies=[Depends(require_scope(ACCOUNTS_MANAGE))],
    responses=error_responses(404),
)
async def account(account_id: UUID, accounts: Accounts, credits: Credits) -> AccountOut:
    return await credits.account_balance(await accounts.by_id(account_id))


@router.post(
    "/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Give an owner credits once per idempotency key (200 when already given; 422 when "
    "the key gave another amount or owner); credits:grant, for plans and platform admins only",
    dependencies=[Depends(require_scope(CREDITS_GRANT))],
    responses={
        200: {"model": GrantOut, "description": "Already given under this key: that grant"},
        **error_responses(400),
    },
)
async def grant(body: GrantRequest, credits: Credits, response: Response) -> GrantOut:
    granted = await credits.grant(body)
    if not granted.applied:
        response.status_code = status.HTTP_200_OK
    return granted


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    summary="Move credits from an owner's balance to another account once per idempotency key "
    "(200 when already moved); credits:transfer",
    dependencies=[Depends(require_scope(CREDITS_TRANSFER))],
    description="One ledger transaction: the source's available credits go down, the target's "
    "up, by the same amount; nothing is created. Drawn soonest-expiring first, each part keeps "
    "its expiry on the target. Short → 402 `insufficient_credits` and nothing changes (no "
    "account is left behind); a key already used by another transfer → 422 "
    "`idempotency_key_reused`.",
    responses={
        200: {"model": TransferOut, "description": "Already moved under this key: that transfer"},
        **error_responses(400, 402, 404),
    },
)
async def transfer(body: TransferRequest, transfers: Transfers, response: Response) -> TransferOut:
    moved = await transfers.transfer(body)
    if not moved.applied:
        response.status_code = status.HTTP_200_OK
    return moved
