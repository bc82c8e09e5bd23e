"""Typed aliases for what routes receive."""

from typing import Annotated

from fastapi import Depends

from accounting.accounts.service import AccountsService
from accounting.credits.service import CreditsService
from accounting.credits.transfers import TransfersService
from accounting.exports.service import ExportsService
from accounting.reservations.service import ReservationsService
from accounting.usage.service import UsageService
from jwt_contract import ServicePrincipal
from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import CREDITS_RESERVE, CREDITS_SETTLE, USAGE_RECORD
from service_kit import app_state

Accounts = Annotated[AccountsService, Depends(app_state("accounts"))]
Credits = Annotated[CreditsService, Depends(app_state("credits"))]
Transfers = Annotated[TransfersService, Depends(app_state("transfers"))]
Reservations = Annotated[ReservationsService, Depends(app_state("reservations"))]
Usage = Annotated[UsageService, Depends(app_state("usage"))]
Exports = Annotated[ExportsService, Depends(app_state("exports"))]

# Services only: an end user's own token on these routes is 403 service_only.
Reserver = Annotated[ServicePrincipal, Depends(require_scope(CREDITS_RESERVE))]
Settler = Annotated[ServicePrincipal, Depends(require_scope(CREDITS_SETTLE))]
UsageRecorder = Annotated[ServicePrincipal, Depends(require_scope(USAGE_RECORD))]
