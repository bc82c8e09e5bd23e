import asyncio

from ..conftest import (
    HAIKU,
    SONNET,
    TITAN,
    audit,
    login,
    model_group,
    new_org,
    new_user,
    service_headers,
)
from .funding import available, owner_with


async def test_a_team_gets_its_own_funded_account(api, auth, accounting):
    owner = await owner_with(auth, accounting, 200)
    admin = await login(auth, "admin")
    fast, smart = (
        await model_group(api, admin, [HAIKU, TITAN]),
        await model_group(api, admin, [SONNET]),
    )
    org = await new_org(api, owner["headers"])
    response = await api.post(
        "/api/teams",
        json={
            "organizationId": org["id"],
            "name": "research",
            "modelGroups": [fast, smart],
            "initialCredits": "100.5",
        },
        headers=owner["headers"],
    )
    assert response.status_code == 201, response.text
    team = response.json()
    assert (team["credits"], team["modelGroups"]) == (100.5, [fast, smart])
    assert team["models"] == [HAIKU, TITAN, SONNET]
    account = await accounting.get(
        f"/internal/accounts/{team['accountId']}",
        headers=service_headers(),
    )
    assert (account.json()["ownerType"], account.json()["ownerId"]) == ("team", team["id"])
    assert account.json()["availableCredits"] == 100.5
    assert await available(accounting, owner) == 99.5  # moved from the owner, not made
    read = await api.get(f"/api/teams/{team['id']}", headers=owner["headers"])
    assert read.json() == team
    listed = await api.get(
        "/api/teams", params={"organizationId": org["id"]}, headers=owner["headers"]
    )
    assert [t["id"] for t in listed.json()["teams"]] == [team["id"]]
    entry = (await audit(api, admin, action="team.created", targetId=team["id"]))[0]
    assert entry["after"]["accountId"] == team["accountId"]


async def test_team_names_are_unique_per_organization_under_a_race(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [HAIKU])
    org = await new_org(api, owner["headers"])
    body = {"organizationId": org["id"], "name": "Ops", "modelGroups": [group], "initialCredits": 5}
    responses = await asyncio.gather(
        *(api.post("/api/teams", json=body, headers=owner["headers"]) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    listed = await api.get(
        "/api/teams", params={"organizationId": org["id"]}, headers=owner["headers"]
    )
    assert len(listed.json()["teams"]) == 1
    assert await available(accounting, owner) == 5  # the losers moved nothing


async def test_bad_team_requests_get_clear_errors(api, auth):
    owner, member, stranger = [await new_user(auth) for _ in range(3)]
    admin = await login(auth, "admin")
    group = await model_group(api, admin, [HAIKU])
    org = await new_org(api, owner["headers"])
    await api.post(
        f"/api/organizations/{org['id']}/members",
        json={"username": member["username"]},
        headers=admin,
    )
    base = {"organizationId": org["id"], "name": "t", "modelGroups": [group]}
    unknown_group = await api.post(
        "/api/teams", json={**base, "modelGroups": ["nope-group"]}, headers=owner["headers"]
    )
    assert (unknown_group.status_code, unknown_group.json()["code"]) == (400, "unknown_model_group")
    negative = await api.post(
        "/api/teams", json={**base, "initialCredits": -1}, headers=owner["headers"]
    )
    assert negative.status_code == 422
    by_member = await api.post("/api/teams", json=base, headers=member["headers"])
    assert by_member.status_code == 403
    by_stranger = await api.post("/api/teams", json=base, headers=stranger["headers"])
    assert by_stranger.status_code == 404
    created = await api.post("/api/teams", json=base, headers=owner["headers"])
    assert created.json()["credits"] == 0
    hidden = await api.get(f"/api/teams/{created.json()['id']}", headers=stranger["headers"])
    assert hidden.status_code == 404
