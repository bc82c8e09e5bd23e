"""Reservations. Holding, extending and settling are for the service that measures an answer
(chat): it calls with its own service token, and for a hold also with the user's token in
``X-On-Behalf-Of``. An end user's token alone is refused (403 ``service_only``)."""

from uuid import UUID

from fastapi import APIRouter, status

from accounting.dependencies import Reservations, Reserver, Settler
from accounting.reservations.schemas import (
    ActiveReservations,
    ExtendRequest,
    ExtendResponse,
    InitializeRequest,
    InitializeResponse,
    SettleRequest,
    SettleResponse,
)
from jwt_contract.dependencies import CurrentPrincipal, OnBehalfOf, OptionalOnBehalfOf, RequireAdmin
from service_kit import error_responses

router = APIRouter(prefix="/api/streaming-sessions", tags=["reservations"])


@router.post(
    "/initialize",
    status_code=status.HTTP_201_CREATED,
    summary="Hold credits for a model answer (estimate at the model's higher rate plus margin); "
    "service only (credits:reserve), for the user whose token is in X-On-Behalf-Of",
    description="402 `insufficient_credits` when the account has less available. When the "
    "user's token was exchanged for an API key, the hold is also the key's (`keyId`, from "
    "the token only: the body cannot name a key or a budget), and a personal key with a "
    "budget (`keyBudgetMicro`) is refused with 402 `key_budget_exceeded` (`details`: "
    "`keyId`, `budgetCredits`, `spentCredits`, `heldCredits`, `askedCredits`) when what it "
    "spent, what it holds and this hold would pass its budget; decided under the account's "
    "and the key's locks, so concurrent holds never pass it.",
    responses=error_responses(401, 402, 403, 422),
)
async def initialize(
    body: InitializeRequest, _: Reserver, user: OnBehalfOf, reservations: Reservations
) -> InitializeResponse:
    return await reservations.initialize(user, body)


@router.post(
    "/finalize",
    summary="Charge the tokens the service measured (never more than the hold); idempotent; "
    "service only (credits:settle). By sessionId only with the user in X-On-Behalf-Of",
    responses=error_responses(401, 403, 404, 422),
)
async def finalize(
    body: SettleRequest, _: Settler, user: OptionalOnBehalfOf, reservations: Reservations
) -> SettleResponse:
    return await reservations.settle(body, abort=False, user_id=user.user_id if user else None)


@router.post(
    "/abort",
    summary="Release the hold, charging only what the service measured; idempotent; service "
    "only (credits:settle)",
    responses=error_responses(401, 403, 404, 422),
)
async def abort(
    body: SettleRequest, _: Settler, user: OptionalOnBehalfOf, reservations: Reservations
) -> SettleResponse:
    return await reservations.settle(body, abort=True, user_id=user.user_id if user else None)


@router.post(
    "/{streaming_session_id}/extend",
    summary="Keep a live answer's hold from expiring and report its progress so far (charged "
    "if the hold still expires); service only (credits:reserve); 409 once it is settled",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def extend(
    streaming_session_id: UUID, body: ExtendRequest, _: Reserver, reservations: Reservations
) -> ExtendResponse:
    return await reservations.extend(streaming_session_id, body)


@router.get("/active", summary="The caller's open reservations", responses=error_responses(401))
async def active(principal: CurrentPrincipal, reservations: Reservations) -> ActiveReservations:
    return await reservations.active(principal.user_id)


@router.get(
    "/active/all", summary="Every open reservation (admin)", responses=error_responses(401, 403)
)
async def active_all(_: RequireAdmin, reservations: Reservations) -> ActiveReservations:
    return await reservations.active(None)
