"""Typed aliases for what routes receive."""

from typing import Annotated

from fastapi import Depends

from accounting.accounts.service import AccountsService
from accounting.credits.service import CreditsService
from accounting.reservations.service import ReservationsService
from accounting.usage.service import UsageService
from service_kit import app_state

Accounts = Annotated[AccountsService, Depends(app_state("accounts"))]
Credits = Annotated[CreditsService, Depends(app_state("credits"))]
Reservations = Annotated[ReservationsService, Depends(app_state("reservations"))]
Usage = Annotated[UsageService, Depends(app_state("usage"))]
