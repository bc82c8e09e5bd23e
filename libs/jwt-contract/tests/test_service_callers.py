"""Service tokens: verified offline like user tokens, refused where a user token is expected
and the other way round; scoped routes and the user a service acts for."""

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from jwt_contract import InvalidToken, ServicePrincipal
from jwt_contract.dependencies import CurrentPrincipal, OnBehalfOf, require_scope
from service_kit import ServiceSettings, create_app

from .conftest import issue

router = APIRouter()
Settler = Annotated[ServicePrincipal, Depends(require_scope("credits:settle"))]


@router.post("/settle")
async def settle(service: Settler) -> dict:
    return {"service": service.service}


@router.post("/hold")
async def hold(service: Settler, user: OnBehalfOf) -> dict:
    return {"service": service.service, "user": user.user_id}


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"id": principal.user_id}


@pytest.fixture
def client(verifier):
    app = create_app(ServiceSettings(), title="t", routers=[router])
    app.state.token_verifier = verifier
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def service_token(signer, *scopes: str, ttl: int = 60) -> str:
    token, _ = signer.issue_service(service="chat", scopes=list(scopes), ttl_seconds=ttl)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_service_token_verifies_to_its_service_and_scopes(signer, verifier):
    caller = verifier.verify_service(service_token(signer, "credits:settle", "usage:record"))
    assert (caller.service, caller.scopes) == ("chat", {"credits:settle", "usage:record"})
    assert verifier.verify_caller(service_token(signer, "a")).service == "chat"


def test_a_service_token_is_no_user_token_and_the_other_way_round(signer, verifier):
    with pytest.raises(InvalidToken):
        verifier.verify(service_token(signer, "credits:settle"))
    with pytest.raises(InvalidToken):
        verifier.verify_service(issue(signer))
    with pytest.raises(InvalidToken):
        verifier.verify_service(service_token(signer, "x", ttl=-120))


def test_a_token_with_non_ascii_characters_is_invalid_not_a_crash(signer, verifier):
    header, payload, signature = issue(signer).split(".")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{payload}é.{signature}")
    with pytest.raises(InvalidToken):
        verifier.verify("é.é.é")


async def test_a_user_token_on_a_service_route_is_service_only(client, signer):
    response = await client.post("/settle", headers=bearer(issue(signer, role="admin")))
    assert response.status_code == 403
    assert response.json()["code"] == "service_only"


async def test_a_service_without_the_scope_is_refused(client, signer):
    response = await client.post("/settle", headers=bearer(service_token(signer, "usage:record")))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


async def test_a_service_with_the_scope_is_let_through(client, signer):
    response = await client.post("/settle", headers=bearer(service_token(signer, "credits:settle")))
    assert response.json() == {"service": "chat"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_no_or_a_bad_token_on_a_service_route_is_401(client, headers):
    assert (await client.post("/settle", headers=headers)).status_code == 401


async def test_a_service_acts_for_the_user_whose_token_it_forwards(client, signer):
    token = service_token(signer, "credits:settle")
    acting = await client.post(
        "/hold", headers={**bearer(token), "X-On-Behalf-Of": f"Bearer {issue(signer)}"}
    )
    assert acting.json() == {"service": "chat", "user": "u-1"}
    missing = await client.post("/hold", headers=bearer(token))
    assert missing.status_code == 401
    # Another service's token is not a user.
    as_service = await client.post(
        "/hold", headers={**bearer(token), "X-On-Behalf-Of": f"Bearer {token}"}
    )
    assert as_service.status_code == 401


async def test_a_service_token_on_a_user_route_is_401(client, signer):
    response = await client.get("/me", headers=bearer(service_token(signer, "credits:settle")))
    assert response.status_code == 401


async def test_a_non_ascii_bearer_is_401(client):
    response = await client.get(
        "/me", headers={"Authorization": "Bearer \xe9\xe9".encode("latin-1")}
    )
    assert response.status_code == 401
