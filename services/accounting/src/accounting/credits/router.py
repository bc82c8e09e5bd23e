from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from accounting.credits.schemas import (
    AllocateRequest,
    AllocateResponse,
    BalanceResponse,
    CalculateRequest,
    CalculateResponse,
    CheckRequest,
    CheckResponse,
    UserRef,
)
from accounting.dependencies import Accounts, Credits
from idempotency import IdempotencyKey, Once, answer, idempotent_responses
from jwt_contract.dependencies import CurrentPrincipal, RequireAdmin, RequireSupervisor
from service_kit import Text, error_responses

router = APIRouter(prefix="/api/credits", tags=["credits"])


@router.post(
    "/allocate",
    status_code=status.HTTP_201_CREATED,
    summary="Give a user credits, optionally expiring (admin)",
    description="With an `Idempotency-Key`, a retry with the same key and body within 24 h "
    "answers the first response again (`Idempotent-Replayed: true`) and moves nothing.",
    response_model=AllocateResponse,
    responses=idempotent_responses(201, error_responses(400, 401, 403, 404)),
)
async def allocate(
    body: AllocateRequest, admin: RequireAdmin, credits: Credits, idempotent: IdempotencyKey
) -> AllocateResponse | Response:
    once = Once.bound(admin.user_id, idempotent, status.HTTP_201_CREATED)
    return answer(await credits.allocate(admin, body, once), once)


@router.get(
    "/balance",
    summary="The caller's credits: available, reserved and per allocation",
    responses=error_responses(401),
)
async def own_balance(
    principal: CurrentPrincipal, accounts: Accounts, credits: Credits
) -> BalanceResponse:
    return await credits.balance_of(await accounts.account_for(principal))


@router.get(
    "/balance/{user_id}",
    summary="A user's credits, by user id or username (supervisor, admin)",
    responses=error_responses(401, 403, 404, 422),
)
async def user_balance(
    user_id: UserRef, _: RequireSupervisor, accounts: Accounts, credits: Credits
) -> BalanceResponse:
    return await credits.balance_of(await accounts.user_account(user_id))


@router.post(
    "/check",
    summary="Whether the caller can afford an amount or a model call",
    responses=error_responses(401, 422),
)
async def check(body: CheckRequest, principal: CurrentPrincipal, credits: Credits) -> CheckResponse:
    return await credits.check(principal, body)


@router.get(
    "/check",
    summary="Same as POST /check, with query parameters",
    responses=error_responses(401, 422),
)
async def check_query(
    principal: CurrentPrincipal,
    credits: Credits,
    credits_amount: Annotated[str | None, Query(alias="credits")] = None,
    model_id: Annotated[Text | None, Query(alias="modelId", max_length=200)] = None,
    estimated_tokens: Annotated[int | None, Query(alias="estimatedTokens", ge=1)] = None,
) -> CheckResponse:
    try:
        body = CheckRequest.model_validate(
            {"credits": credits_amount, "modelId": model_id, "estimatedTokens": estimated_tokens}
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    return await credits.check(principal, body)


@router.post(
    "/calculate",
    summary="What tokens of a model cost, from the configured prices",
    responses=error_responses(401, 422),
)
async def calculate(
    body: CalculateRequest, _: CurrentPrincipal, credits: Credits
) -> CalculateResponse:
    return credits.calculate(body)
