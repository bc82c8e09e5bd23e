"""Funding teams: credits move from the caller's own balance; only a platform admin makes them."""

import asyncio

from ..conftest import HAIKU, audit, login, model_group, new_org, new_user
from .funding import account_credits, available, owner_with


async def new_team(api, owner: dict, admin: dict, org: dict | None = None, **extra):
    """(organization, the response to creating a team in it)."""
    group = await model_group(api, admin, [HAIKU])
    org = org or await new_org(api, owner["headers"])
    body = {"organizationId": org["id"], "name": "funded", "modelGroups": [group], **extra}
    return org, await api.post("/api/teams", json=body, headers=owner["headers"])


async def fund(api, team_id: str, credits, headers: dict, key: str | None = None):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return await api.post(
        f"/api/teams/{team_id}/credits", json={"credits": credits}, headers=headers
    )


async def test_an_owner_with_no_credits_cannot_make_a_funded_team(api, auth, accounting):
    owner = await owner_with(auth, accounting, 0)
    admin = await login(auth, "admin")
    org, refused = await new_team(api, owner, admin, initialCredits=999999)
    assert (refused.status_code, refused.json()["code"]) == (402, "insufficient_credits")
    # No team is left half-made: the organization has none, and none was audited.
    listed = await api.get(
        "/api/teams", params={"organizationId": org["id"]}, headers=owner["headers"]
    )
    assert listed.json()["teams"] == []
    assert await audit(api, admin, action="team.*", organizationId=org["id"]) == []
    # Nor can a team made unfunded be funded from nothing afterwards.
    _, bare = await new_team(api, owner, admin, org=org)
    assert bare.status_code == 201, bare.text
    again = await fund(api, bare.json()["id"], 999999, owner["headers"])
    assert (again.status_code, again.json()["code"]) == (402, "insufficient_credits")
    assert await account_credits(accounting, bare.json()["accountId"]) == 0
    assert await available(accounting, owner) == 0


async def test_an_owner_funds_a_team_out_of_their_own_balance(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    response = await fund(api, team["id"], 4, owner["headers"])
    assert response.status_code == 201, response.text
    funding = response.json()
    assert (funding["source"], funding["credits"]) == ("transfer", 4)
    assert (funding["callerCredits"], funding["teamCredits"]) == (6, 4)
    assert funding["transferId"] is not None and funding["allocationId"] is None
    assert await available(accounting, owner) == 6
    assert await account_credits(accounting, team["accountId"]) == 4
    read = await api.get(f"/api/teams/{team['id']}", headers=owner["headers"])
    assert read.json()["credits"] == 4
    (entry,) = await audit(api, admin, action="team.funded", targetId=team["id"])
    assert (entry["actorId"], entry["after"]["source"]) == (owner["id"], "transfer")
    assert entry["after"]["transferId"] == funding["transferId"]


async def test_initial_credits_come_out_of_the_owners_balance(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin, initialCredits="4.5")
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["credits"] == 4.5
    assert await available(accounting, owner) == 5.5
    assert await account_credits(accounting, team["accountId"]) == 4.5
    (entry,) = await audit(api, admin, action="team.funded", targetId=team["id"])
    assert (entry["actorId"], entry["after"]["source"], entry["after"]["credits"]) == (
        owner["id"],
        "transfer",
        "4.5",
    )


async def test_two_fundings_racing_for_the_last_credits_one_succeeds(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    responses = await asyncio.gather(
        fund(api, team["id"], 6, owner["headers"]), fund(api, team["id"], 6, owner["headers"])
    )
    assert sorted(r.status_code for r in responses) == [201, 402]
    assert await available(accounting, owner) == 4
    assert await account_credits(accounting, team["accountId"]) == 6
    assert len(await audit(api, admin, action="team.funded", targetId=team["id"])) == 1


async def test_only_the_organizations_owners_and_admins_fund_its_teams(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    member, org_admin = [await owner_with(auth, accounting, 10) for _ in range(2)]
    stranger = await new_user(auth)
    admin = await login(auth, "admin")
    org, created = await new_team(api, owner, admin)
    team = created.json()
    for user, role in ((member, "member"), (org_admin, "admin")):
        added = await api.post(
            f"/api/organizations/{org['id']}/members",
            json={"username": user["username"], "role": role},
            headers=admin,
        )
        assert added.status_code == 201, added.text
    by_member = await fund(api, team["id"], 1, member["headers"])
    by_stranger = await fund(api, team["id"], 1, stranger["headers"])
    assert (by_member.status_code, by_stranger.status_code) == (403, 404)
    assert await available(accounting, member) == 10
    assert await account_credits(accounting, team["accountId"]) == 0
    by_org_admin = await fund(api, team["id"], 3, org_admin["headers"])
    assert by_org_admin.status_code == 201, by_org_admin.text
    assert await available(accounting, org_admin) == 7
    assert await available(accounting, owner) == 10
    assert await account_credits(accounting, team["accountId"]) == 3


async def test_a_platform_admin_funds_from_nothing_and_it_is_audited(api, auth, accounting):
    owner = await owner_with(auth, accounting, 0)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    admin_balance = await accounting.get("/api/credits/balance", headers=admin)
    response = await fund(api, team["id"], 1000, admin)
    assert response.status_code == 201, response.text
    funding = response.json()
    assert (funding["source"], funding["credits"], funding["teamCredits"]) == ("grant", 1000, 1000)
    assert funding["allocationId"] is not None and funding["callerCredits"] is None
    assert await account_credits(accounting, team["accountId"]) == 1000
    after = await accounting.get("/api/credits/balance", headers=admin)
    assert after.json()["availableCredits"] == admin_balance.json()["availableCredits"]
    (entry,) = await audit(api, admin, action="team.funded", targetId=team["id"])
    assert (entry["actorUsername"], entry["after"]["source"]) == ("admin", "grant")
    assert entry["after"]["allocationId"] == funding["allocationId"]
    _, granted = await new_team(api, {"headers": admin}, admin, initialCredits=250)
    assert granted.status_code == 201, granted.text
    assert await account_credits(accounting, granted.json()["accountId"]) == 250
    (initial,) = await audit(api, admin, action="team.funded", targetId=granted.json()["id"])
    assert initial["after"]["source"] == "grant"


async def test_one_idempotency_key_funds_once(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    first = await fund(api, team["id"], 3, owner["headers"], key="fund-once")
    again = await fund(api, team["id"], 3, owner["headers"], key="fund-once")
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["transferId"] == first.json()["transferId"]
    assert await available(accounting, owner) == 7
    assert await account_credits(accounting, team["accountId"]) == 3
    other = await fund(api, team["id"], 2, owner["headers"], key="fund-once")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    racing = await asyncio.gather(
        *(fund(api, team["id"], 1, owner["headers"], key="fund-race") for _ in range(5))
    )
    assert [r.status_code for r in racing] == [201] * 5
    assert sum("Idempotent-Replayed" in r.headers for r in racing) == 4
    assert await available(accounting, owner) == 6
    assert len(await audit(api, admin, action="team.funded", targetId=team["id"])) == 2
    by_admin = await fund(api, team["id"], 5, admin, key="admin-once")
    by_admin_again = await fund(api, team["id"], 5, admin, key="admin-once")
    assert by_admin_again.headers["Idempotent-Replayed"] == "true", by_admin_again.text
    assert by_admin.json()["allocationId"] == by_admin_again.json()["allocationId"]
    assert await account_credits(accounting, team["accountId"]) == 9


async def test_bad_fundings_are_refused_with_clear_errors(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team_id = created.json()["id"]
    for credits in (0, -1, "0.0000001", "lots", True):
        response = await fund(api, team_id, credits, owner["headers"])
        assert response.status_code == 422, (credits, response.text)
    unknown = await fund(api, "00000000-0000-0000-0000-000000000000", 1, owner["headers"])
    assert unknown.status_code == 404
    long_key = await fund(api, team_id, 1, owner["headers"], key="k" * 256)
    assert long_key.status_code == 422
    assert await available(accounting, owner) == 10
