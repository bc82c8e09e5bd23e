"""Routes of two-factor authentication (TOTP, RFC 6238)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status

from auth.idempotent import REPLAY_DESCRIPTION, ReplayKeeper, answer, idempotent_responses
from auth.sessions.cookie import SET_COOKIE_HEADER, set_refresh_cookie
from auth.sessions.schemas import LoginResponse
from auth.signed_in import signed_in_user
from auth.two_factor.dependencies import MfaReadyAdmin, TwoFactor
from auth.two_factor.schemas import CodeRequest, MfaLoginRequest, SetupResponse, VerifyResponse
from idempotency import IdempotencyKey
from jwt_contract import Principal
from service_kit import error_responses

router = APIRouter(prefix="/api/auth", tags=["two-factor authentication"])

Holder = Annotated[
    Principal,
    Depends(
        signed_in_user(
            service_refusal="Two-factor authentication belongs to users, not to services",
            key_refusal="An API key cannot change two-factor authentication: sign in as yourself",
        )
    ),
]

_ERROR = error_responses(400)[400]["model"]


def _documented(status_code: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status_code: {"description": description, "model": _ERROR}}


_HOLDER_ONLY = _documented(
    403,
    "A service token, or a token exchanged for an API key: only a user signed in as "
    "themselves changes their 2FA",
)
_THROTTLED = _documented(
    429,
    "Too many wrong codes for this user (see LOGIN_MAX_FAILURES, MFA_MAX_FAILURES_PER_USER): "
    "`rate_limited`, with Retry-After",
)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/2fa/setup",
    summary="Set up TOTP: a new secret, its otpauth:// URI and QR code (not on until verified)",
    description="Scan `qrSvg` (or type `secret`) into an authenticator app, then send a code "
    "to `/2fa/verify`. Calling it again before verifying replaces the secret. The secret is "
    "stored encrypted (AES-256-GCM under `MFA_ENCRYPTION_KEY`). "
    f"{REPLAY_DESCRIPTION} A replay answers the same secret (it does not replace it again).",
    response_model=SetupResponse,
    responses=idempotent_responses(
        200,
        {
            **error_responses(401),
            **_HOLDER_ONLY,
            **_documented(409, "2FA is already on: `mfa_already_enabled`"),
        },
    ),
)
async def set_up(
    holder: Holder, two_factor: TwoFactor, replays: ReplayKeeper, idempotent: IdempotencyKey
) -> SetupResponse | Response:
    once = replays.once(holder.user_id, idempotent, status.HTTP_200_OK)
    return answer(await two_factor.set_up(holder, once), once)


@router.post(
    "/2fa/verify",
    summary="Turn 2FA on with a first code; answers the ten backup codes, shown only here",
    description="From now on a password login answers `{mfaRequired: true, mfaToken}`. "
    f"{REPLAY_DESCRIPTION} A replay answers the same backup codes (a retry whose answer was "
    "lost does not leave 2FA on with codes never seen).",
    response_model=VerifyResponse,
    responses=idempotent_responses(
        200,
        {
            **_documented(400, "Not the code of the secret set up: `invalid_mfa_code`"),
            **error_responses(401, 422),
            **_HOLDER_ONLY,
            **_documented(
                409, "Nothing set up (`mfa_not_set_up`) or already on (`mfa_already_enabled`)"
            ),
            **_THROTTLED,
        },
    ),
)
async def verify(
    body: CodeRequest,
    request: Request,
    holder: Holder,
    two_factor: TwoFactor,
    replays: ReplayKeeper,
    idempotent: IdempotencyKey,
) -> VerifyResponse | Response:
    once = replays.once(holder.user_id, idempotent, status.HTTP_200_OK)
    return answer(await two_factor.verify(holder, body.code, _client_ip(request), once), once)


@router.delete(
    "/2fa",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn 2FA off with a current code or an unused backup code",
    description="The body is `{code}`. Its backup codes go with it.",
    responses={
        **_documented(400, "A wrong or already used code: `invalid_mfa_code`"),
        **error_responses(401, 422),
        **_HOLDER_ONLY,
        **_documented(409, "2FA is not on: `mfa_not_enabled`"),
        **_THROTTLED,
    },
)
async def disable(
    body: CodeRequest, request: Request, holder: Holder, two_factor: TwoFactor
) -> Response:
    await two_factor.disable(holder, body.code, _client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/login/2fa",
    summary="The second step of a login with 2FA on: the mfaToken and a code",
    description="`code` is the authenticator's current code or an unused backup code; each "
    "is accepted once (a TOTP code not again, nor any code of an earlier 30 s step). The "
    "answer is the login's. An mfaToken works once, for `MFA_TOKEN_TTL_SECONDS`, and for "
    "`MFA_MAX_ATTEMPTS_PER_TOKEN` wrong codes at most; then log in with the password again. "
    "The refresh token is also set as the `refresh_token` cookie, as by `POST /login`.",
    responses={
        200: {"description": "Signed in", "headers": SET_COOKIE_HEADER},
        401: {
            "description": "A wrong or already used code (`invalid_mfa_code`), or an mfaToken "
            "that is unknown, expired, used or out of attempts (`invalid_mfa_token`)",
            "model": _ERROR,
        },
        **error_responses(422),
        **_THROTTLED,
    },
)
async def login_with_code(
    body: MfaLoginRequest, request: Request, response: Response, two_factor: TwoFactor
) -> LoginResponse:
    answer = await two_factor.complete_login(body.mfa_token, body.code, _client_ip(request))
    set_refresh_cookie(response, answer.refresh_token, two_factor.settings)
    return answer


@router.post(
    "/users/{user_id}/2fa/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn a user's 2FA off, e.g. when their device is lost (admin), audited",
    description="Their secret, backup codes and pending 2FA logins are deleted; their "
    "sessions stay. Recorded as `audit.recorded` (`user.2fa_reset`) on the bus, through the "
    "outbox, in the same transaction. A user without 2FA: 204 all the same.",
    responses={
        **error_responses(401, 404, 422),
        **_documented(
            403,
            "Not an admin (`forbidden`), or an admin who must set up 2FA "
            "first (`mfa_setup_required`)",
        ),
    },
)
async def reset(user_id: UUID, admin: MfaReadyAdmin, two_factor: TwoFactor) -> Response:
    await two_factor.reset(admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
