import httpx
import pytest
from fastapi import APIRouter

from jwt_contract.dependencies import CurrentPrincipal, RequireAdmin, RequireSupervisor
from service_kit import ServiceSettings, create_app

from .conftest import issue

router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"id": principal.user_id}


@router.get("/admin")
async def admin_only(principal: RequireAdmin) -> dict:
    return {"ok": True}


@router.get("/watch")
async def supervisors(principal: RequireSupervisor) -> dict:
    return {"ok": True}


@pytest.fixture
def client(verifier):
    app = create_app(ServiceSettings(), title="t", routers=[router])
    app.state.token_verifier = verifier
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


INVALID = {"message": "Invalid authentication token", "code": "invalid_token"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dTpw"}, bearer("nope")])
async def test_missing_or_bad_tokens_get_401_with_the_contract_message(client, headers):
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_refresh_token_on_a_protected_route_is_401(client, signer):
    response = await client.get("/me", headers=bearer(issue(signer, token_type="refresh")))
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_valid_token_reaches_the_route(client, signer):
    response = await client.get("/me", headers=bearer(issue(signer)))
    assert response.json() == {"id": "u-1"}


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("enduser", "/admin", 403),
        ("supervisor", "/admin", 403),
        ("admin", "/admin", 200),
        ("enduser", "/watch", 403),
        ("supervisor", "/watch", 200),
        ("admin", "/watch", 200),
    ],
)
async def test_roles(client, signer, role, path, status):
    response = await client.get(path, headers=bearer(issue(signer, role=role)))
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "forbidden"
