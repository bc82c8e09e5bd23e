from fastapi import APIRouter, status

from accounting.dependencies import Reservations
from accounting.reservations.schemas import (
    ActiveReservations,
    InitializeRequest,
    InitializeResponse,
    SettleRequest,
    SettleResponse,
)
from jwt_contract.dependencies import CurrentPrincipal, RequireAdmin
from service_kit import error_responses

router = APIRouter(prefix="/api/streaming-sessions", tags=["reservations"])


@router.post(
    "/initialize",
    status_code=status.HTTP_201_CREATED,
    summary="Hold credits for a model answer (estimate at the model's higher rate plus margin)",
    responses=error_responses(401, 402, 422),
)
async def initialize(
    body: InitializeRequest, principal: CurrentPrincipal, reservations: Reservations
) -> InitializeResponse:
    return await reservations.initialize(principal, body)


@router.post(
    "/finalize",
    summary="Charge the tokens really used (never more than the hold); idempotent",
    responses=error_responses(401, 404, 422),
)
async def finalize(
    body: SettleRequest, principal: CurrentPrincipal, reservations: Reservations
) -> SettleResponse:
    return await reservations.settle(principal, body, abort=False)


@router.post(
    "/abort",
    summary="Release the hold, charging only what was generated; idempotent",
    responses=error_responses(401, 404, 422),
)
async def abort(
    body: SettleRequest, principal: CurrentPrincipal, reservations: Reservations
) -> SettleResponse:
    return await reservations.settle(principal, body, abort=True)


@router.get("/active", summary="The caller's open reservations", responses=error_responses(401))
async def active(principal: CurrentPrincipal, reservations: Reservations) -> ActiveReservations:
    return await reservations.active(principal.user_id)


@router.get(
    "/active/all", summary="Every open reservation (admin)", responses=error_responses(401, 403)
)
async def active_all(_: RequireAdmin, reservations: Reservations) -> ActiveReservations:
    return await reservations.active(None)
