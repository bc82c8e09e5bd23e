"""Who may hold personal keys: a user with their own access token.

Not a service (its token is ``type: service``) and not an API key (its token says ``keyId``):
a leaked key must not be able to list its owner's keys or mint itself a successor.
"""

import logging
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


async def key_owner(
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
        raise ApiError(403, "forbidden", "Personal API keys belong to users, not to services")
    if "keyId" in caller.claims:
        raise ApiError(403, "forbidden", "An API key cannot manage API keys: sign in as yourself")
    request.state.principal = caller
    return caller


KeyOwner = Annotated[Principal, Depends(key_owner)]
