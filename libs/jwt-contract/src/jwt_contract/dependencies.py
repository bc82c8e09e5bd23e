"""FastAPI dependencies: the current principal, and role requirements.

The app must hold a :class:`TokenVerifier` in ``app.state.token_verifier``.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jwt_contract.claims import Principal, Role
from jwt_contract.errors import InvalidToken
from jwt_contract.verifier import TokenVerifier
from service_kit import ApiError

log = logging.getLogger(__name__)

INVALID_TOKEN_MESSAGE = "Invalid authentication token"

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/auth/login")


def invalid_token() -> ApiError:
    return ApiError(
        401, "invalid_token", INVALID_TOKEN_MESSAGE, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise invalid_token()
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify_async(credentials.credentials)
    except InvalidToken as exc:
        log.info("rejected token", extra={"reason": str(exc)})
        raise invalid_token() from None
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's raw token, for forwarding to another service on the caller's behalf."""
    return credentials.credentials if credentials else ""


BearerToken = Annotated[str, Depends(bearer_token)]


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only principals holding one of ``roles``."""
    allowed = " or ".join(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise ApiError(403, "forbidden", f"This action requires the {allowed} role")
        return principal

    return dependency


RequireAdmin = Annotated[Principal, Depends(require_role("admin"))]
RequireSupervisor = Annotated[Principal, Depends(require_role("supervisor", "admin"))]
