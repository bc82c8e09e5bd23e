"""REQUIRE_2FA_ROLES holds at chat too, offline: an admin whose token auth did not issue with
2FA on (``mfaEnabled``) is 403 ``mfa_setup_required`` on chat's routes; other roles are
served."""

from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from .conftest import HAIKU, bearer, login


async def test_an_admin_without_2fa_is_refused_and_an_enduser_is_served(http, stack):
    settings = ChatSettings(**{**stack.settings, "require_2fa_roles": "admin"})
    admin = bearer(await login(http, stack, "admin"))
    user = bearer(await login(http, stack, "user1"))
    async with serve_app(create_app(settings)) as url:
        for method, path, body in (
            ("GET", "/api/models", None),
            ("GET", "/v1/models", None),
            ("GET", "/api/chat/streams/active", None),
            ("POST", "/api/chat/sessions", {"title": "t", "modelId": HAIKU}),
        ):
            response = await http.request(method, f"{url}{path}", json=body, headers=admin)
            assert (response.status_code, response.json()["code"]) == (403, "mfa_setup_required")
        assert (await http.get(f"{url}/api/models", headers=user)).status_code == 200
    # Without the setting (the shared stack's chat), the same admin token is served.
    assert (await http.get(f"{stack.chat}/api/models", headers=admin)).status_code == 200
