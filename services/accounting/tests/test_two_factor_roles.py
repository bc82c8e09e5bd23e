"""REQUIRE_2FA_ROLES holds at accounting too, offline: a token of such a role that auth did
not issue with 2FA on (``mfaEnabled``) is 403 ``mfa_setup_required``, as the bearer and as the
user chat acts for; 2FA turned on and signed in with it, the same user is served."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest_asyncio
from asgi_lifespan import LifespanManager

from accounting.main import create_app

from .conftest import bearer, new_user, service_token, token


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict(accounting_settings, bus_namespace) -> AsyncIterator[httpx.AsyncClient]:
    """Accounting with REQUIRE_2FA_ROLES=admin,enduser (its own queues, the same database)."""
    settings = accounting_settings.model_copy(
        update={
            "require_2fa_roles": "admin,enduser",
            "user_registered_queue": bus_namespace.queue_name("accounting.strict-users"),
            "usage_recorded_queue": bus_namespace.queue_name("accounting.strict-usage"),
        }
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://accounting") as c:
            yield c


async def signed_in_with_2fa(auth: httpx.AsyncClient, user: dict) -> str:
    """``user`` turns 2FA on and signs in with a code: the access token of that login."""
    headers = bearer(user["token"])
    secret = (await auth.post("/api/auth/2fa/setup", headers=headers)).json()["secret"]
    if 30 - time.time() % 30 < 8:  # two consecutive steps' codes, well inside the drift
        await asyncio.sleep(30 - time.time() % 30 + 0.05)
    step = int(time.time() // 30)
    verified = await auth.post(
        "/api/auth/2fa/verify",
        json={"code": pyotp.TOTP(secret).generate_otp(step - 1)},
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    first = await auth.post(
        "/api/auth/login", json={"username": user["username"], "password": "Str0ng-pass!"}
    )
    assert first.json()["mfaRequired"] is True, first.text
    second = await auth.post(
        "/api/auth/login/2fa",
        json={"mfaToken": first.json()["mfaToken"], "code": pyotp.TOTP(secret).generate_otp(step)},
    )
    assert second.status_code == 200, second.text
    return str(second.json()["accessToken"])


async def test_an_admin_without_2fa_is_refused_everywhere_and_others_are_served(strict, auth):
    admin = bearer(await token(auth, "admin"))
    for method, path, body in (
        ("GET", "/api/credits/balance", None),
        ("POST", "/api/credits/allocate", {"targetUserId": "user1", "credits": 1}),
        ("GET", "/api/usage/system-stats", None),
    ):
        response = await strict.request(method, path, json=body, headers=admin)
        assert (response.status_code, response.json()["code"]) == (403, "mfa_setup_required")
    supervisor = bearer(await token(auth, "supervisor1"))
    assert (await strict.get("/api/credits/balance", headers=supervisor)).status_code == 200


async def test_2fa_turned_on_and_used_lets_the_user_in(strict, auth):
    user = await new_user(auth)
    refused = await strict.get("/api/credits/balance", headers=bearer(user["token"]))
    assert (refused.status_code, refused.json()["code"]) == (403, "mfa_setup_required")
    with_2fa = await signed_in_with_2fa(auth, user)
    served = await strict.get("/api/credits/balance", headers=bearer(with_2fa))
    assert served.status_code == 200, served.text


async def test_the_user_chat_acts_for_is_held_to_it(strict, auth):
    user = await new_user(auth)
    chat = await service_token(auth)
    body = {
        "sessionId": "s-1",
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "estimatedTokens": 10,
    }
    response = await strict.post(
        "/api/streaming-sessions/initialize",
        json=body,
        headers={**bearer(chat), "X-On-Behalf-Of": f"Bearer {user['token']}"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "mfa_setup_required")
