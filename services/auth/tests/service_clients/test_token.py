"""POST /api/auth/token: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4)."""

import base64

import pytest

from jwt_contract import ServicePrincipal

CHAT = ("chat", "dev-chat-client-secret")


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def test_a_service_trades_its_credentials_for_a_scoped_token(app, client):
    response = await client.post(
        "/api/auth/token", data={"grant_type": "client_credentials"}, headers=basic(*CHAT)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == (
        "byok:read credits:reserve credits:settle plans:read revocations:read usage:record"
    )
    caller = app.state.token_verifier.verify_caller(body["access_token"])
    assert caller == ServicePrincipal(
        "chat",
        frozenset(
            {
                "byok:read",
                "credits:reserve",
                "credits:settle",
                "plans:read",
                "revocations:read",
                "usage:record",
            }
        ),
        caller.token_id,
        caller.expires_at,
    )


async def test_json_and_body_credentials_work_too(client):
    response = await client.post(
        "/api/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "provisioning",
            "client_secret": "dev-provisioning-client-secret",
            "scope": "users:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "users:read"


@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        (("chat", "wrong"), 401, "invalid_client"),
        (("nobody", "dev-chat-client-secret"), 401, "invalid_client"),
        (("gateway", "dev-chat-client-secret"), 401, "invalid_client"),  # another's secret
    ],
)
async def test_wrong_credentials_get_no_token(client, credentials, status, code):
    response = await client.post(
        "/api/auth/token", data={"grant_type": "client_credentials"}, headers=basic(*credentials)
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert "access_token" not in response.json()


async def test_a_service_cannot_ask_for_a_scope_it_does_not_hold(client):
    response = await client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials", "scope": "credits:settle credits:grant"},
        headers=basic(*CHAT),
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"data": {"grant_type": "password"}}, "unsupported_grant_type"),
        ({"data": {}}, "unsupported_grant_type"),
        ({"json": ["client_credentials"]}, "invalid_request"),
        ({"json": {"grant_type": "client_credentials", "scope": 5}}, "invalid_request"),
        ({"content": b"grant_type=client_credentials&\xff", "headers": {}}, "invalid_request"),
    ],
)
async def test_malformed_requests_are_400(client, kwargs, code):
    headers = {**basic(*CHAT), **kwargs.pop("headers", {})}
    response = await client.post("/api/auth/token", headers=headers, **kwargs)
    assert (response.status_code, response.json()["code"]) == (400, code)


async def test_a_user_token_is_no_service_token(client):
    login = await client.post(
        "/api/auth/login", json={"username": "user1", "password": "User1@123"}
    )
    user_token = login.json()["accessToken"]
    response = await client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Bearer {user_token}"},
    )
    assert (response.status_code, response.json()["code"]) == (401, "invalid_client")
