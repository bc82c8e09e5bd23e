"""FastAPI dependencies: the current principal, role requirements, and service callers.

The app must hold a :class:`TokenVerifier` in ``app.state.token_verifier``.

A route only services may call depends on :func:`require_scope`: an end user's token there is
403 ``service_only`` (what a user is charged is what a service measured, never what a client
says), a service token without the scope 403 ``insufficient_scope``. A service acting for a
user sends the user's own token in ``X-On-Behalf-Of`` (:data:`OnBehalfOf`).
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jwt_contract.claims import Principal, Role, ServicePrincipal
from jwt_contract.errors import InvalidToken
from jwt_contract.verifier import TokenVerifier
from service_kit import ApiError

__all__ = [
    "INVALID_TOKEN_MESSAGE",
    "ON_BEHALF_OF_HEADER",
    "BearerToken",
    "CurrentPrincipal",
    "OnBehalfOf",
    "OnBehalfOfHeader",
    "OptionalOnBehalfOf",
    "RequireAdmin",
    "RequireSupervisor",
    "bearer_token",
    "current_principal",
    "invalid_token",
    "mfa_setup_required",
    "on_behalf_of",
    "optional_on_behalf_of",
    "require_role",
    "require_scope",
    "service_only",
]

log = logging.getLogger(__name__)

INVALID_TOKEN_MESSAGE = "Invalid authentication token"

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/auth/login")
_service_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceToken",
    description="A service token from POST /api/auth/token (client credentials)",
)

ON_BEHALF_OF_HEADER = "X-On-Behalf-Of"
T = TypeVar("T")


def invalid_token() -> ApiError:
    return ApiError(
        401, "invalid_token", INVALID_TOKEN_MESSAGE, headers={"WWW-Authenticate": "Bearer"}
    )


async def _verified(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    verify: Callable[[TokenVerifier, str], Awaitable[T]],
) -> T:
    """What ``verify`` makes of the bearer token; 401 for none, or one it refuses."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise invalid_token()
    try:
        return await verify(request.app.state.token_verifier, credentials.credentials)
    except InvalidToken as exc:
        log.info("rejected token", extra={"reason": str(exc)})
        raise invalid_token() from None


def mfa_setup_required(role: str) -> ApiError:
    """The refusal auth gives a user of a role in ``REQUIRE_2FA_ROLES`` without 2FA."""
    return ApiError(
        403,
        "mfa_setup_required",
        f"Users with the {role} role must turn on two-factor authentication first: "
        "POST /api/auth/2fa/setup, then /api/auth/2fa/verify, then sign in again or refresh",
    )


def _two_factor_checked(request: Request, principal: Principal) -> Principal:
    """``principal``, unless the service's ``REQUIRE_2FA_ROLES`` wants 2FA its token lacks."""
    verifier: TokenVerifier = request.app.state.token_verifier
    if verifier.lacks_two_factor(principal):
        log.info(
            "token without 2FA refused",
            extra={"userId": principal.user_id, "role": principal.role},
        )
        raise mfa_setup_required(principal.role)
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = await _verified(request, credentials, TokenVerifier.verify_async)
    request.state.principal = _two_factor_checked(request, principal)
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


def service_only() -> ApiError:
    return ApiError(403, "service_only", "Only a platform service may call this route")


def require_scope(scope: str) -> Callable[..., Awaitable[ServicePrincipal]]:
    """A dependency that lets through only a service whose token grants ``scope``."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_service_bearer)],
    ) -> ServicePrincipal:
        caller = await _verified(request, credentials, TokenVerifier.verify_caller_async)
        if isinstance(caller, Principal):
            log.warning(
                "a user token on a service route",
                extra={"userId": caller.user_id, "path": request.url.path},
            )
            raise service_only()
        if not caller.has_scope(scope):
            raise ApiError(
                403,
                "insufficient_scope",
                f"This route needs the {scope} scope",
                details={"service": caller.service, "scope": scope},
            )
        request.state.service = caller
        return caller

    return dependency


OnBehalfOfHeader = Annotated[
    str | None,
    Header(
        alias=ON_BEHALF_OF_HEADER,
        description="The access token of the user a service acts for",
    ),
]


async def on_behalf_of(request: Request, x_on_behalf_of: OnBehalfOfHeader = None) -> Principal:
    """The user a service acts for, from the user's own token in ``X-On-Behalf-Of``."""
    scheme, _, token = (x_on_behalf_of or "").partition(" ")
    if not token:
        token, scheme = scheme, "bearer"
    if not token or scheme.lower() != "bearer":
        raise ApiError(
            401, "invalid_token", f"This route needs the user's token in {ON_BEHALF_OF_HEADER}"
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify_async(token)
    except InvalidToken as exc:
        log.info("rejected on-behalf-of token", extra={"reason": str(exc)})
        raise invalid_token() from None
    request.state.principal = _two_factor_checked(request, principal)
    return principal


OnBehalfOf = Annotated[Principal, Depends(on_behalf_of)]


async def optional_on_behalf_of(
    request: Request, x_on_behalf_of: OnBehalfOfHeader = None
) -> Principal | None:
    """Like :func:`on_behalf_of` where naming the user is optional; a bad token is still 401."""
    if x_on_behalf_of is None:
        return None
    return await on_behalf_of(request, x_on_behalf_of)


OptionalOnBehalfOf = Annotated[Principal | None, Depends(optional_on_behalf_of)]
