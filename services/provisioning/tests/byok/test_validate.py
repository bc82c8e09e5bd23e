"""validate: the provider's cheapest authenticated call, here the model simulator's, which
checks the key it is given."""

import os

import httpx
import pytest

from model_simulator.keys import fingerprint
from sealed_secrets import SecretBox

from ..conftest import new_user
from .conftest import BAD_KEY, GOOD_ACCESS_KEY_ID, GOOD_KEY, store


async def validate(api, user, key_id):
    response = await api.post(f"/api/byok/keys/{key_id}/validate", headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_good_key_is_valid_and_a_bad_one_is_refused(api, auth, byok, provider):
    user = await new_user(auth)
    good = (await store(api, user["headers"], provider=provider)).json()
    bad = (
        await store(api, user["headers"], provider=provider, credentials={"apiKey": BAD_KEY})
    ).json()
    assert (await validate(api, user, good["id"]))["valid"] is True
    refused = await validate(api, user, bad["id"])
    assert (refused["valid"], refused["providerStatus"]) == (False, 401)


async def test_the_provider_is_called_with_that_key(api, auth, byok, simulator):
    user = await new_user(auth)
    key = (await store(api, user["headers"])).json()
    await validate(api, user, key["id"])
    async with httpx.AsyncClient(base_url=simulator) as sim:
        (last,) = (await sim.get("/sim/requests", params={"limit": 1})).json()["requests"]
    assert (last["path"], last["keyKind"], last["keyFingerprint"]) == (
        "/v1/models",
        "bearer",
        fingerprint(GOOD_KEY),
    )


async def test_bedrock_keys_are_checked_with_a_signed_list_foundation_models(api, auth, byok):
    user = await new_user(auth)
    good = await store(
        api,
        user["headers"],
        provider="bedrock",
        credentials={"accessKeyId": GOOD_ACCESS_KEY_ID, "secretAccessKey": "any-secret-1"},
    )
    bad = await store(
        api,
        user["headers"],
        provider="bedrock",
        credentials={"accessKeyId": "AKIANOTVALID0001", "secretAccessKey": "any-secret-2"},
    )
    assert (await validate(api, user, good.json()["id"]))["valid"] is True
    refused = await validate(api, user, bad.json()["id"])
    assert (refused["valid"], refused["providerStatus"]) == (False, 403)


async def test_an_openai_compatible_server_is_called_at_its_base_url(api, auth, byok, simulator):
    user = await new_user(auth)
    key = await store(api, user["headers"], provider="openai-compatible", baseUrl=f"{simulator}/")
    assert key.status_code == 201, key.text
    assert key.json()["baseUrl"] == simulator
    assert (await validate(api, user, key.json()["id"]))["valid"] is True


async def test_an_unreachable_server_is_not_valid_and_says_so(api, auth, byok):
    user = await new_user(auth)
    key = await store(
        api, user["headers"], provider="openai-compatible", baseUrl="http://127.0.0.1:9"
    )
    result = await validate(api, user, key.json()["id"])
    assert (result["valid"], result["providerStatus"]) == (False, None)
    assert "could not be reached" in result["message"]


async def test_a_credential_under_a_master_key_no_longer_configured_is_503(
    api, auth, byok, monkeypatch
):
    user = await new_user(auth)
    key = (await store(api, user["headers"])).json()
    monkeypatch.setattr(byok, "box", SecretBox(os.urandom(32)))
    response = await api.post(f"/api/byok/keys/{key['id']}/validate", headers=user["headers"])
    assert (response.status_code, response.json()["code"]) == (503, "credential_unreadable")
