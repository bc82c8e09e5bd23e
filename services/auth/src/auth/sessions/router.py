from fastapi import APIRouter, Request, Response, status

from auth.dependencies import Sessions
from auth.sessions.cookie import (
    CLEAR_COOKIE_HEADER,
    SET_COOKIE_HEADER,
    RefreshCookie,
    clear_refresh_cookie,
    refresh_token_from,
    set_refresh_cookie,
)
from auth.sessions.schemas import (
    LoginRequest,
    LoginResponse,
    RefreshRequest,
    TokenPair,
)
from auth.two_factor.schemas import MfaRequired
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import error_responses

router = APIRouter(prefix="/api/auth", tags=["sessions"])


@router.post(
    "/login",
    summary="Log in with a username or an email",
    description="A user with two-factor authentication on gets `{mfaRequired: true, "
    "mfaToken}` and no tokens yet: the login goes on at `POST /api/auth/login/2fa` with a "
    "code. The tokens are also set as the `refresh_token` cookie (httpOnly, SameSite=Strict, "
    "Path=/api/auth) for the web console.",
    responses={
        200: {"description": "Signed in, or the 2FA step", "headers": SET_COOKIE_HEADER},
        **error_responses(401, 422),
        429: {
            "description": "Too many failed logins; see the Retry-After header",
            "model": error_responses(429)[429]["model"],
        },
    },
)
async def login(
    body: LoginRequest, request: Request, response: Response, sessions: Sessions
) -> LoginResponse | MfaRequired:
    client_ip = request.client.host if request.client else "unknown"
    answer = await sessions.login(body.username, body.password, client_ip)
    if isinstance(answer, LoginResponse):
        set_refresh_cookie(response, answer.refresh_token, sessions.settings)
    return answer


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair; a reused refresh token revokes its family",
    description="The refresh token is the body's `refreshToken`, else the `refresh_token` "
    "cookie's (the body may then be empty or absent); neither is 422. The new refresh token "
    "is also set as the cookie.",
    responses={
        200: {"description": "The new pair", "headers": SET_COOKIE_HEADER},
        **error_responses(401, 422),
    },
)
async def refresh(
    response: Response,
    sessions: Sessions,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> TokenPair:
    pair = await sessions.refresh(refresh_token_from(body, cookie))
    set_refresh_cookie(response, pair.refresh_token, sessions.settings)
    return pair


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the refresh token's family",
    description="The refresh token is the body's `refreshToken`, else the `refresh_token` "
    "cookie's; neither is 422. The cookie is cleared.",
    responses={
        204: {"description": "Signed out", "headers": CLEAR_COOKIE_HEADER},
        **error_responses(401, 422),
    },
)
async def logout(
    principal: CurrentPrincipal,
    sessions: Sessions,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> Response:
    await sessions.logout(principal, refresh_token_from(body, cookie))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_refresh_cookie(response, sessions.settings)
    return response
