from fastapi import APIRouter, Request, Response, status

from auth.dependencies import Sessions
from auth.sessions.schemas import LoginRequest, LoginResponse, RefreshRequest, TokenPair
from auth.two_factor.schemas import MfaRequired
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import error_responses

router = APIRouter(prefix="/api/auth", tags=["sessions"])


@router.post(
    "/login",
    summary="Log in with a username or an email",
    description="A user with two-factor authentication on gets `{mfaRequired: true, "
    "mfaToken}` and no tokens yet: the login goes on at `POST /api/auth/login/2fa` with a "
    "code.",
    responses={
        **error_responses(401, 422),
        429: {
            "description": "Too many failed logins; see the Retry-After header",
            "model": error_responses(429)[429]["model"],
        },
    },
)
async def login(
    body: LoginRequest, request: Request, sessions: Sessions
) -> LoginResponse | MfaRequired:
    client_ip = request.client.host if request.client else "unknown"
    return await sessions.login(body.username, body.password, client_ip)


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair; a reused refresh token revokes its family",
    responses=error_responses(401, 422),
)
async def refresh(body: RefreshRequest, sessions: Sessions) -> TokenPair:
    return await sessions.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the refresh token's family",
    responses=error_responses(401, 422),
)
async def logout(body: RefreshRequest, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    await sessions.logout(principal, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
