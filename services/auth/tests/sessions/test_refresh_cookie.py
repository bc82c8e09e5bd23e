"""The refresh token as an httpOnly, SameSite=Strict cookie (the web console's), beside the
body the header-based clients send."""

from http.cookies import SimpleCookie

import httpx
from fastapi import Response

from auth.sessions.cookie import set_refresh_cookie

from ..conftest import bearer, login, register
from ..two_factor.enrolment import PASSWORD, enrolled, mfa_token, second_step

INVALID = {"message": "Invalid authentication token", "code": "invalid_token"}


def set_cookie(response: httpx.Response) -> dict[str, str]:
    """The refresh_token Set-Cookie's value and attributes (lower-case names)."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith("refresh_token=")]
    assert len(headers) == 1, response.headers
    morsel = SimpleCookie(headers[0])["refresh_token"]
    flags = {name.lower() for name in headers[0].split(";")[1:]}
    return {
        "value": morsel.value,
        "path": morsel["path"],
        "max-age": str(morsel["max-age"]),
        "samesite": str(morsel["samesite"]).lower(),
        "httponly": str(" httponly" in flags),
        "secure": str(" secure" in flags),
    }


async def with_cookie(client: httpx.AsyncClient, path: str, token: str, **kwargs) -> httpx.Response:
    client.cookies.clear()  # only the cookie this call names
    headers = {"Cookie": f"refresh_token={token}", **kwargs.pop("headers", {})}
    return await client.post(path, headers=headers, **kwargs)


async def test_login_sets_the_refresh_token_as_an_httponly_strict_cookie(client, settings):
    user = await register(client)
    response = await login(client, user["user"]["username"], "Str0ng-pass!")
    cookie = set_cookie(response)
    assert cookie == {
        "value": response.json()["refreshToken"],
        "path": "/api/auth",
        "max-age": str(settings.refresh_token_ttl_seconds),
        "samesite": "strict",
        "httponly": "True",
        "secure": "False",
    }


async def test_the_cookie_is_secure_in_production_or_when_asked(settings):
    for overrides in ({"environment": "production"}, {"refresh_cookie_secure": True}):
        response = Response()
        set_refresh_cookie(response, "t", settings.model_copy(update=overrides))
        assert "; secure" in response.headers["set-cookie"].lower()


async def test_refresh_takes_the_cookie_when_there_is_no_body_and_rotates_it(client):
    user = await register(client)
    first = set_cookie(await login(client, user["user"]["username"], "Str0ng-pass!"))["value"]
    response = await with_cookie(client, "/api/auth/refresh", first)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert set_cookie(response)["value"] == pair["refreshToken"] != first
    me = await client.get("/api/auth/me", headers=bearer(pair["accessToken"]))
    assert me.json()["id"] == user["user"]["id"]
    # The cookie's token was used: sending it again is a reuse, which revokes the family.
    reuse = await with_cookie(client, "/api/auth/refresh", first, json={})
    assert reuse.status_code == 401
    assert reuse.json() == INVALID
    assert (await with_cookie(client, "/api/auth/refresh", pair["refreshToken"])).status_code == 401


async def test_a_refresh_token_in_the_body_wins_over_the_cookie(client):
    user = await register(client)
    response = await with_cookie(
        client, "/api/auth/refresh", "not-a-token", json={"refreshToken": user["refreshToken"]}
    )
    assert response.status_code == 200, response.text


async def test_a_forged_cookie_is_401(client):
    response = await with_cookie(client, "/api/auth/refresh", "forged.token.value")
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_refresh_and_logout_without_any_refresh_token_are_422(client):
    user = await register(client)
    client.cookies.clear()
    for path, headers in (
        ("/api/auth/refresh", {}),
        ("/api/auth/logout", bearer(user["accessToken"])),
    ):
        for kwargs in ({}, {"json": {}}):
            response = await client.post(path, headers=headers, **kwargs)
            assert response.status_code == 422, (path, kwargs, response.text)
            assert response.json()["code"] == "validation_error"


async def test_logout_with_the_cookie_revokes_its_family_and_clears_it(client):
    user = await register(client)
    signed_in = await login(client, user["user"]["username"], "Str0ng-pass!")
    token = set_cookie(signed_in)["value"]
    access = signed_in.json()["accessToken"]
    response = await with_cookie(client, "/api/auth/logout", token, headers=bearer(access))
    assert response.status_code == 204, response.text
    cleared = set_cookie(response)
    assert (cleared["value"], cleared["max-age"], cleared["path"]) == ("", "0", "/api/auth")
    assert (await with_cookie(client, "/api/auth/refresh", token)).status_code == 401


async def test_logout_with_a_cookie_still_needs_the_owners_access_token(client):
    mine, theirs = await register(client), await register(client)
    anonymous = await with_cookie(client, "/api/auth/logout", theirs["refreshToken"])
    assert anonymous.status_code == 401
    foreign = await with_cookie(
        client, "/api/auth/logout", theirs["refreshToken"], headers=bearer(mine["accessToken"])
    )
    assert foreign.status_code == 401
    assert (
        await with_cookie(client, "/api/auth/refresh", theirs["refreshToken"])
    ).status_code == 200


async def test_a_2fa_login_sets_the_cookie_only_at_its_second_step(client):
    user = await enrolled(client)
    first = await login(client, user.username, PASSWORD)
    assert "refresh_token=" not in first.headers.get("set-cookie", "")
    token = await mfa_token(client, user.username)
    done = await second_step(client, token, user.backup_codes[0])
    assert done.status_code == 200, done.text
    assert set_cookie(done)["value"] == done.json()["refreshToken"]
