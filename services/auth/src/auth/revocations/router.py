"""``GET /internal/revocations``: what a service reads when it starts or reconnects."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from auth.revocations.service import RevocationsService
from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import REVOCATIONS_READ
from service_kit import app_state, error_responses

Revoked = Annotated[RevocationsService, Depends(app_state("revocations"))]

internal = APIRouter(
    prefix="/internal/revocations",
    tags=["revocations (internal)"],
    dependencies=[Depends(require_scope(REVOCATIONS_READ))],
    responses=error_responses(401, 403),
)


@internal.get(
    "",
    summary="Revocations a token still alive may be refused for: users' lowest valid token "
    "version, revoked keys (from when), deleted organizations (revocations:read)",
)
async def recent(revocations: Revoked) -> dict[str, Any]:
    return await revocations.snapshot()
