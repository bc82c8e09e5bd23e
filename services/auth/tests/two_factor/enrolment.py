"""Users with 2FA on, and their codes, for the 2FA tests."""

import asyncio
import time
from dataclasses import dataclass

import httpx
import pyotp

from ..conftest import bearer, login, register

PASSWORD = "Str0ng-pass!"
STEP = 30


@dataclass
class Enrolled:
    username: str
    user_id: str
    access_token: str
    secret: str
    backup_codes: list[str]
    # The time step whose code verified the setup: codes of it and earlier are spent.
    verified_step: int

    def code(self, step: int) -> str:
        return pyotp.TOTP(self.secret).generate_otp(step)


async def settled_step(margin: float = 8.0) -> int:
    """The current 30 s step, once at least ``margin`` seconds of it are left, so that its
    neighbours stay within the accepted drift while a test uses them."""
    left = STEP - time.time() % STEP
    if left < margin:
        await asyncio.sleep(left + 0.05)
    return int(time.time() // STEP)


async def enrolled(client: httpx.AsyncClient) -> Enrolled:
    """A new user who set up and verified 2FA with the code of the step before the current
    one (so the current and the next are still theirs to use)."""
    user = await register(client)
    token = user["accessToken"]
    setup = await client.post("/api/auth/2fa/setup", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    step = await settled_step()
    verified = await client.post(
        "/api/auth/2fa/verify",
        json={"code": pyotp.TOTP(secret).generate_otp(step - 1)},
        headers=bearer(token),
    )
    assert verified.status_code == 200, verified.text
    return Enrolled(
        user["user"]["username"],
        user["user"]["id"],
        token,
        secret,
        verified.json()["backupCodes"],
        step - 1,
    )


async def mfa_token(client: httpx.AsyncClient, username: str) -> str:
    response = await login(client, username, PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"mfaRequired": True, "mfaToken": body["mfaToken"]}
    return str(body["mfaToken"])


async def second_step(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await client.post("/api/auth/login/2fa", json={"mfaToken": token, "code": code})
