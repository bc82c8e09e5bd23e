"""REQUIRE_2FA_ROLES: those roles set 2FA up before any other auth route works for them."""

from collections.abc import AsyncIterator

import pyotp
import pytest_asyncio
from asgi_lifespan import LifespanManager

from auth.main import create_app

from ..conftest import admin_token, bearer, client_for, login, make_settings, register
from .enrolment import PASSWORD, settled_step


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict_app(postgres_url, redis_url, rabbitmq_url, bus_namespace) -> AsyncIterator:
    """A second auth on the same database, requiring 2FA of supervisors and admins."""
    settings = make_settings(
        postgres_url,
        redis_url,
        rabbitmq_url,
        bus_namespace.exchange,
        require_2fa_roles="supervisor, admin",
    )
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60):
        yield application


async def supervisor(client) -> tuple[str, str]:
    """A new user promoted to supervisor (by the lenient app's admin): name and fresh token."""
    user = await register(client)
    admin = await admin_token(client)
    promoted = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"role": "supervisor"}, headers=bearer(admin)
    )
    assert promoted.status_code == 200, promoted.text
    relogin = await login(client, user["user"]["username"], PASSWORD)
    return user["user"]["username"], relogin.json()["accessToken"]


async def test_a_supervisor_without_2fa_may_only_set_it_up(client, strict_app):
    _, token = await supervisor(client)
    async with client_for(strict_app) as strict:
        headers = bearer(token)
        keys = await strict.get("/api/auth/api-keys", headers=headers)
        assert keys.status_code == 403 and keys.json()["code"] == "mfa_setup_required"
        create = await strict.post("/api/auth/api-keys", json={"name": "k"}, headers=headers)
        assert create.json()["code"] == "mfa_setup_required"
        assert (await strict.get("/api/auth/me", headers=headers)).status_code == 200
        setup = await strict.post("/api/auth/2fa/setup", headers=headers)
        assert setup.status_code == 200
        step = await settled_step()
        code = pyotp.TOTP(setup.json()["secret"]).generate_otp(step)
        verified = await strict.post("/api/auth/2fa/verify", json={"code": code}, headers=headers)
        assert verified.status_code == 200, verified.text
        # The same token works at once: the check reads the user's 2FA as it is now.
        assert (await strict.get("/api/auth/api-keys", headers=headers)).status_code == 200


async def test_an_admin_without_2fa_is_refused_admin_routes(strict_app):
    async with client_for(strict_app) as strict:
        admin = await admin_token(strict)  # logging in still works: it is how setup starts
        for method, path in (
            ("GET", "/api/auth/users"),
            ("POST", f"/api/auth/users/{'0' * 8}-0000-0000-0000-{'0' * 12}/2fa/reset"),
        ):
            response = await strict.request(method, path, headers=bearer(admin))
            assert (response.status_code, response.json()["code"]) == (403, "mfa_setup_required")


async def test_other_roles_are_not_asked(client, strict_app):
    user = await register(client)
    async with client_for(strict_app) as strict:
        keys = await strict.get("/api/auth/api-keys", headers=bearer(user["accessToken"]))
        assert keys.status_code == 200
