"""The ``mfaEnabled`` claim auth signs into access tokens (and personal keys' tokens): what the
other services' REQUIRE_2FA_ROLES checks offline. It says whether the user had 2FA on when the
token was issued."""

import jwt

from ..conftest import bearer, register, service_headers
from .enrolment import enrolled, mfa_token, second_step

GATEWAY = service_headers("gateway")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def test_a_user_without_2fa_gets_tokens_saying_so(client):
    user = await register(client)
    assert claims(user["accessToken"])["mfaEnabled"] is False
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert claims(refreshed.json()["accessToken"])["mfaEnabled"] is False


async def test_turning_2fa_on_shows_in_the_next_tokens_and_off_again(client):
    user = await enrolled(client)
    assert claims(user.access_token)["mfaEnabled"] is False  # issued before 2FA was on
    login = await second_step(
        client, await mfa_token(client, user.username), user.code(user.verified_step + 1)
    )
    assert login.status_code == 200, login.text
    assert claims(login.json()["accessToken"])["mfaEnabled"] is True
    refreshed = await client.post(
        "/api/auth/refresh", json={"refreshToken": login.json()["refreshToken"]}
    )
    assert claims(refreshed.json()["accessToken"])["mfaEnabled"] is True
    off = await client.request(
        "DELETE",
        "/api/auth/2fa",
        json={"code": user.backup_codes[0]},
        headers=bearer(refreshed.json()["accessToken"]),
    )
    assert off.status_code == 204, off.text
    again = await client.post(
        "/api/auth/refresh", json={"refreshToken": refreshed.json()["refreshToken"]}
    )
    assert claims(again.json()["accessToken"])["mfaEnabled"] is False


async def test_a_personal_keys_token_carries_its_owners_2fa(client):
    user = await enrolled(client)
    created = await client.post(
        "/api/auth/api-keys", json={"name": "ci"}, headers=bearer(user.access_token)
    )
    assert created.status_code == 201, created.text
    exchanged = await client.post(
        "/internal/api-keys/exchange", json={"apiKey": created.json()["key"]}, headers=GATEWAY
    )
    assert exchanged.status_code == 200, exchanged.text
    assert claims(exchanged.json()["accessToken"])["mfaEnabled"] is True
    plain = await register(client)
    key = await client.post(
        "/api/auth/api-keys", json={"name": "ci"}, headers=bearer(plain["accessToken"])
    )
    exchanged = await client.post(
        "/internal/api-keys/exchange", json={"apiKey": key.json()["key"]}, headers=GATEWAY
    )
    assert claims(exchanged.json()["accessToken"])["mfaEnabled"] is False
