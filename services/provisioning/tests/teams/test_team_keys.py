"""Team keys end to end across services: minted through provisioning, exchanged at auth,
spent from the team's account in accounting."""

import pytest

from ..conftest import HAIKU, audit, bearer, login, model_group, new_org, new_user, service_headers
from .funding import owner_with


@pytest.fixture
async def team(api, auth, accounting):
    owner = await owner_with(auth, accounting, 40)  # the team's initial credits are the owner's
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [HAIKU])
    org = await new_org(api, owner["headers"])
    response = await api.post(
        "/api/teams",
        json={
            "organizationId": org["id"],
            "name": "keys",
            "modelGroups": [group],
            "initialCredits": 40,
        },
        headers=owner["headers"],
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "owner": owner, "admin": admin}


async def exchange(auth, key):
    """What the gateway does with an sk- key, as the gateway."""
    return await auth.post(
        "/internal/api-keys/exchange", json={"apiKey": key}, headers=service_headers("gateway")
    )


async def test_a_key_acts_as_the_team_on_its_account_and_models(api, auth, accounting, team):
    owner = team["owner"]
    created = await api.post(
        f"/api/teams/{team['id']}/keys",
        json={"name": "ci", "expiresInDays": 30},
        headers=owner["headers"],
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith("sk-") and key["expiresAt"] is not None
    exchanged = await exchange(auth, key["key"])
    assert exchanged.status_code == 200
    balance = await accounting.get(
        "/api/credits/balance", headers=bearer(exchanged.json()["accessToken"])
    )
    assert balance.json()["availableCredits"] == 40
    listed = await api.get(f"/api/teams/{team['id']}/keys", headers=owner["headers"])
    assert key["key"] not in listed.text
    (only,) = listed.json()["keys"]
    assert (only["prefix"], only["models"], only["lastUsedAt"] is not None) == (
        key["prefix"],
        [HAIKU],
        True,
    )


async def test_rotate_then_revoke_each_audited(api, auth, team):
    owner, admin = team["owner"], team["admin"]
    base = f"/api/teams/{team['id']}/keys"
    old = (await api.post(base, json={"name": "svc"}, headers=owner["headers"])).json()
    rotated = await api.post(
        f"{base}/{old['id']}/rotate", json={"gracePeriodSeconds": 60}, headers=owner["headers"]
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert (await exchange(auth, old["key"])).status_code == 200  # within the grace period
    revoked = await api.delete(f"{base}/{new['id']}", headers=owner["headers"])
    assert revoked.status_code == 200 and revoked.json()["revokedAt"] is not None
    assert (await exchange(auth, new["key"])).status_code == 401
    actions = [
        e["action"]
        for e in await audit(api, admin, action="team_key.*", organizationId=team["organizationId"])
    ]
    assert actions == ["team_key.revoked", "team_key.rotated", "team_key.created"]


async def test_keys_of_other_teams_and_strangers_are_refused(api, auth, team):
    stranger = await new_user(auth)
    base = f"/api/teams/{team['id']}/keys"
    assert (
        await api.post(base, json={"name": "x"}, headers=stranger["headers"])
    ).status_code == 404
    assert (await api.get(base, headers=stranger["headers"])).status_code == 404
    unknown = await api.delete(
        f"{base}/00000000-0000-0000-0000-000000000000", headers=team["owner"]["headers"]
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    bad = await api.post(
        base, json={"name": "x", "expiresInDays": 0}, headers=team["owner"]["headers"]
    )
    assert bad.status_code == 422
