"""The refresh token as an httpOnly, SameSite=Strict cookie, for the web console: script on the
page never reads it, and the browser sends it only to /api/auth of this same site. Header-based
clients are unaffected: a refresh token in the body always wins over the cookie."""

from typing import Annotated, Any

from fastapi import Cookie, Response

from auth.config import AuthSettings
from auth.sessions.schemas import RefreshRequest
from service_kit import ApiError

REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = "/api/auth"

RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        description="The refresh token set by login (httpOnly); used when the body has none",
    ),
]

SET_COOKIE_HEADER: dict[str, Any] = {
    "Set-Cookie": {
        "description": f"`{REFRESH_COOKIE}=<refresh token>; Path={COOKIE_PATH}; HttpOnly; "
        "SameSite=Strict; Max-Age=REFRESH_TOKEN_TTL_SECONDS` (plus `Secure` when "
        "REFRESH_COOKIE_SECURE, by default in production)",
        "schema": {"type": "string"},
    }
}
CLEAR_COOKIE_HEADER: dict[str, Any] = {
    "Set-Cookie": {
        "description": f'`{REFRESH_COOKIE}=""; Max-Age=0; Path={COOKIE_PATH}`: the cookie is '
        "cleared",
        "schema": {"type": "string"},
    }
}


def _secure(settings: AuthSettings) -> bool:
    return (
        settings.is_production
        if settings.refresh_cookie_secure is None
        else (settings.refresh_cookie_secure)
    )


def set_refresh_cookie(response: Response, token: str, settings: AuthSettings) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=settings.refresh_token_ttl_seconds,
        path=COOKIE_PATH,
        secure=_secure(settings),
        httponly=True,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, settings: AuthSettings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE, path=COOKIE_PATH, secure=_secure(settings), httponly=True, samesite="strict"
    )


def refresh_token_from(body: RefreshRequest | None, cookie: str | None) -> str:
    """The body's refresh token, else the cookie's; neither is 422 as a missing field was."""
    if body is not None and body.refresh_token is not None:
        return body.refresh_token
    if cookie:
        return cookie
    raise ApiError(
        422,
        "validation_error",
        f"refreshToken is required, in the body or the {REFRESH_COOKIE} cookie",
    )
