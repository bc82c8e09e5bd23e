"""A user signed in as themselves: their own access token, neither a service's token (``type:
service``) nor one exchanged for an API key (it says ``keyId``). Routes that manage a user's
credentials (API keys, 2FA) take only that: a leaked key must not mint itself a successor, nor
turn on 2FA and lock its owner out."""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jwt_contract import InvalidToken, ServicePrincipal, TokenVerifier
from jwt_contract.claims import Principal
from jwt_contract.dependencies import invalid_token
from service_kit import ApiError

log = logging.getLogger(__name__)

# The same scheme as jwt_contract's CurrentPrincipal, so the OpenAPI shows one.
_bearer = HTTPBearer(auto_error=False, description="An access token from /api/auth/login")


def signed_in_user(
    *, service_refusal: str, key_refusal: str
) -> Callable[..., Awaitable[Principal]]:
    """A dependency answering 403 ``forbidden`` with these messages to a service or a key."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise invalid_token()
        verifier: TokenVerifier = request.app.state.token_verifier
        try:
            caller = await verifier.verify_caller_async(credentials.credentials)
        except InvalidToken as exc:
            log.info("rejected token", extra={"reason": str(exc)})
            raise invalid_token() from None
        if isinstance(caller, ServicePrincipal):
            raise ApiError(403, "forbidden", service_refusal)
        if "keyId" in caller.claims:
            raise ApiError(403, "forbidden", key_refusal)
        request.state.principal = caller
        return caller

    return dependency
