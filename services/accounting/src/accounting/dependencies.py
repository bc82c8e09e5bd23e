"""Typed aliases for what routes receive."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accounting.accounts.service import AccountsService
from accounting.credits.service import CreditsService
from accounting.reservations.service import ReservationsService
from accounting.usage.service import UsageService

_bearer = HTTPBearer(auto_error=False)


def _state(name: str):
    def get(request: Request):
        return getattr(request.app.state, name)

    return get


def _raw_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    return credentials.credentials if credentials else ""


Accounts = Annotated[AccountsService, Depends(_state("accounts"))]
Credits = Annotated[CreditsService, Depends(_state("credits"))]
Reservations = Annotated[ReservationsService, Depends(_state("reservations"))]
Usage = Annotated[UsageService, Depends(_state("usage"))]
BearerToken = Annotated[str, Depends(_raw_token)]
