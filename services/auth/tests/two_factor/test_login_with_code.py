"""Setting 2FA up, logging in with it, and every code accepted exactly once."""

import asyncio
import uuid

import pyotp

from ..conftest import bearer, login, register
from .enrolment import PASSWORD, enrolled, mfa_token, second_step, settled_step


async def test_setup_answers_secret_uri_and_qr_and_is_off_until_verified(client):
    user = await register(client)
    setup = await client.post("/api/auth/2fa/setup", headers=bearer(user["accessToken"]))
    assert setup.status_code == 200, setup.text
    body = setup.json()
    assert set(body) == {"secret", "otpauthUri", "qrSvg"}
    parsed = pyotp.parse_uri(body["otpauthUri"])
    assert parsed.secret == body["secret"] and parsed.digits == 6 and parsed.interval == 30
    assert body["qrSvg"].startswith("<svg") and body["qrSvg"].endswith("</svg>")
    # Not verified yet: a password login still answers tokens.
    plain = await login(client, user["user"]["username"], PASSWORD)
    assert set(plain.json()) == {"accessToken", "refreshToken", "user"}


async def test_verify_refuses_a_wrong_code_then_turns_2fa_on_once(client):
    user = await register(client)
    headers = bearer(user["accessToken"])
    nothing = await client.post("/api/auth/2fa/verify", json={"code": "123456"}, headers=headers)
    assert nothing.status_code == 409 and nothing.json()["code"] == "mfa_not_set_up"
    secret = (await client.post("/api/auth/2fa/setup", headers=headers)).json()["secret"]
    step = await settled_step()
    wrong = pyotp.TOTP(secret).generate_otp(step + 5)
    refused = await client.post("/api/auth/2fa/verify", json={"code": wrong}, headers=headers)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_mfa_code"
    right = pyotp.TOTP(secret).generate_otp(step)
    verified = await client.post("/api/auth/2fa/verify", json={"code": right}, headers=headers)
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["enabled"] is True
    assert len(body["backupCodes"]) == len(set(body["backupCodes"])) == 10
    again = await client.post("/api/auth/2fa/verify", json={"code": right}, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "mfa_already_enabled"
    resetup = await client.post("/api/auth/2fa/setup", headers=headers)
    assert resetup.status_code == 409 and resetup.json()["code"] == "mfa_already_enabled"


async def test_login_asks_for_a_code_and_the_code_completes_it(client):
    user = await enrolled(client)
    token = await mfa_token(client, user.username)
    done = await second_step(client, token, user.code(user.verified_step + 1))
    assert done.status_code == 200, done.text
    body = done.json()
    assert set(body) == {"accessToken", "refreshToken", "user"}
    assert body["user"]["username"] == user.username
    me = await client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.json()["id"] == user.user_id
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": body["refreshToken"]})
    assert refreshed.status_code == 200


async def test_a_code_is_accepted_once_and_earlier_steps_never_again(client):
    user = await enrolled(client)
    code = user.code(user.verified_step + 1)
    assert (
        await second_step(client, await mfa_token(client, user.username), code)
    ).status_code == 200
    for replayed in (code, user.code(user.verified_step)):
        refused = await second_step(client, await mfa_token(client, user.username), replayed)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "invalid_mfa_code"
    # The next step's code is still good.
    later = await second_step(
        client, await mfa_token(client, user.username), user.code(user.verified_step + 2)
    )
    assert later.status_code == 200, later.text


async def test_the_same_code_at_once_on_two_logins_passes_once(client):
    user = await enrolled(client)
    tokens = [await mfa_token(client, user.username) for _ in range(2)]
    code = user.code(user.verified_step + 1)
    answers = await asyncio.gather(*(second_step(client, token, code) for token in tokens))
    assert sorted(answer.status_code for answer in answers) == [200, 401]


async def test_a_backup_code_works_once_in_any_case_and_spacing(client):
    user = await enrolled(client)
    backup = user.backup_codes[3]
    typed = f" {backup.upper()} "
    first = await second_step(client, await mfa_token(client, user.username), typed)
    assert first.status_code == 200, first.text
    again = await second_step(client, await mfa_token(client, user.username), backup)
    assert again.status_code == 401 and again.json()["code"] == "invalid_mfa_code"
    other = await second_step(
        client, await mfa_token(client, user.username), user.backup_codes[4].replace("-", "")
    )
    assert other.status_code == 200, other.text


async def test_an_mfa_token_is_spent_by_its_success(client):
    user = await enrolled(client)
    token = await mfa_token(client, user.username)
    assert (await second_step(client, token, user.backup_codes[0])).status_code == 200
    reused = await second_step(client, token, user.backup_codes[1])
    assert reused.status_code == 401 and reused.json()["code"] == "invalid_mfa_token"
    unknown = await second_step(client, "mfa_" + "x" * 43, user.backup_codes[1])
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_mfa_token"


async def test_an_expired_mfa_token_is_refused(app, client):
    user = await enrolled(client)
    token = await mfa_token(client, user.username)
    async with app.state.two_factor.pool.acquire() as conn:
        await conn.execute(
            "UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1",
            uuid.UUID(user.user_id),
        )
    expired = await second_step(client, token, user.code(user.verified_step + 1))
    assert expired.status_code == 401 and expired.json()["code"] == "invalid_mfa_token"


async def test_turning_2fa_off_takes_a_code_and_logins_are_plain_again(client):
    user = await enrolled(client)
    headers = bearer(user.access_token)
    wrong = await client.request(
        "DELETE", "/api/auth/2fa", json={"code": "000000"}, headers=headers
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_mfa_code"
    off = await client.request(
        "DELETE", "/api/auth/2fa", json={"code": user.backup_codes[9]}, headers=headers
    )
    assert off.status_code == 204, off.text
    plain = await login(client, user.username, PASSWORD)
    assert set(plain.json()) == {"accessToken", "refreshToken", "user"}
    again = await client.request(
        "DELETE", "/api/auth/2fa", json={"code": user.backup_codes[8]}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "mfa_not_enabled"


async def test_turning_2fa_off_with_a_totp_code(client):
    user = await enrolled(client)
    off = await client.request(
        "DELETE",
        "/api/auth/2fa",
        json={"code": user.code(user.verified_step + 1)},
        headers=bearer(user.access_token),
    )
    assert off.status_code == 204, off.text
