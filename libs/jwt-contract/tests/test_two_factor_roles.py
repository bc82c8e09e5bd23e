"""REQUIRE_2FA_ROLES at every service, offline: a token of such a role that does not say its
user has 2FA on (``mfaEnabled``, which auth signs) is 403 ``mfa_setup_required`` wherever a
principal is built (the bearer, and ``X-On-Behalf-Of``); other roles, team keys' tokens and
services' own tokens are not concerned."""

import httpx
import pytest
from fastapi import APIRouter
from pydantic import ValidationError

from jwt_contract import StaticKeySet, TokenVerifier
from jwt_contract.claims import TWO_FACTOR_CLAIM
from jwt_contract.dependencies import CurrentPrincipal, OnBehalfOf, RequireAdmin
from jwt_contract.remote import TokenSettings, jwks_verifier
from service_kit import ServiceSettings, create_app

from .conftest import AUDIENCE, ISSUER, issue

router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"id": principal.user_id}


@router.get("/admin")
async def admin_only(principal: RequireAdmin) -> dict:
    return {"ok": True}


@router.get("/for-user")
async def for_user(user: OnBehalfOf) -> dict:
    return {"id": user.user_id}


def client_with(rsa_key, ed_key, roles) -> httpx.AsyncClient:
    keys = StaticKeySet([rsa_key.verification_key(), ed_key.verification_key()])
    app = create_app(ServiceSettings(), title="t", routers=[router])
    app.state.token_verifier = TokenVerifier(
        keys, issuer=ISSUER, audience=AUDIENCE, roles_requiring_2fa=frozenset(roles)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/me", "/admin"])
async def test_a_role_requiring_2fa_without_it_is_403_mfa_setup_required(
    rsa_key, ed_key, signer, path
):
    async with client_with(rsa_key, ed_key, {"admin", "supervisor"}) as client:
        for token in (issue(signer, role="admin"), issue(signer, role="admin", mfaEnabled=False)):
            response = await client.get(path, headers=bearer(token))
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "mfa_setup_required"
            assert "admin" in response.json()["message"]
        enrolled = await client.get(
            path, headers=bearer(issue(signer, role="admin", mfaEnabled=True))
        )
        assert enrolled.status_code == 200, enrolled.text


async def test_only_a_true_claim_counts(rsa_key, ed_key, signer):
    async with client_with(rsa_key, ed_key, {"supervisor"}) as client:
        for value in ("true", 1, [True], None):
            token = issue(signer, role="supervisor", **{TWO_FACTOR_CLAIM: value})
            response = await client.get("/me", headers=bearer(token))
            assert response.json()["code"] == "mfa_setup_required", value


async def test_other_roles_and_team_keys_are_not_concerned(rsa_key, ed_key, signer):
    async with client_with(rsa_key, ed_key, {"admin", "supervisor"}) as client:
        assert (await client.get("/me", headers=bearer(issue(signer)))).status_code == 200
    async with client_with(rsa_key, ed_key, {"enduser"}) as client:
        team_key = issue(signer, teamId="t-1", keyId="k-1", models=[])
        assert (await client.get("/me", headers=bearer(team_key))).status_code == 200
        personal_key = issue(signer, keyId="k-2")
        refused = await client.get("/me", headers=bearer(personal_key))
        assert refused.json()["code"] == "mfa_setup_required"
        owner_has_it = issue(signer, keyId="k-3", mfaEnabled=True)
        assert (await client.get("/me", headers=bearer(owner_has_it))).status_code == 200


async def test_the_user_a_service_acts_for_is_held_to_it_too(rsa_key, ed_key, signer):
    async with client_with(rsa_key, ed_key, {"admin"}) as client:
        without = {"X-On-Behalf-Of": f"Bearer {issue(signer, role='admin')}"}
        response = await client.get("/for-user", headers=without)
        assert (response.status_code, response.json()["code"]) == (403, "mfa_setup_required")
        with_it = {"X-On-Behalf-Of": f"Bearer {issue(signer, role='admin', mfaEnabled=True)}"}
        assert (await client.get("/for-user", headers=with_it)).status_code == 200


async def test_by_default_no_role_requires_it(client_default):
    response = await client_default.get("/admin", headers=client_default.admin_headers)
    assert response.status_code == 200


@pytest.fixture
def client_default(verifier, signer):
    app = create_app(ServiceSettings(), title="t", routers=[router])
    app.state.token_verifier = verifier
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    client.admin_headers = bearer(issue(signer, role="admin"))
    return client


def test_services_read_require_2fa_roles_from_their_settings():
    settings = TokenSettings(require_2fa_roles=" admin, supervisor ,")
    assert settings.roles_requiring_2fa == {"admin", "supervisor"}
    assert TokenSettings().roles_requiring_2fa == frozenset()
    verifier = jwks_verifier(settings, httpx.AsyncClient())
    assert verifier.roles_requiring_2fa == {"admin", "supervisor"}
    with pytest.raises(ValidationError, match="unknown roles"):
        TokenSettings(require_2fa_roles="admin,root")
