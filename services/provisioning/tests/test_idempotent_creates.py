"""Idempotency-Key on provisioning's other creating POSTs (issue 14): a retry with the same key
and body answers the first response again and creates nothing; another body is 422."""

import asyncio
import uuid

import httpx

from .conftest import HAIKU, audit, login, model_group, new_org, new_user, unique_slug
from .teams.funding import owner_with
from .teams.test_team_credits import new_team


async def twice(
    api: httpx.AsyncClient, path: str, body: dict, headers: dict, other: dict
) -> httpx.Response:
    """The body sent twice with one key (the second is a replay), then another body with it
    (422); returns the first answer."""
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await api.post(path, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await api.post(path, json=body, headers=keyed)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    reused = await api.post(path, json=other, headers=keyed)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    return first


async def test_an_organization_is_created_once_per_key(api, auth):
    owner = await new_user(auth)
    admin = await login(auth, "admin")
    slug = unique_slug()
    body = {"slug": slug, "name": "Once"}
    first = await twice(
        api, "/api/organizations", body, owner["headers"], {"slug": unique_slug(), "name": "x"}
    )
    assert first.json()["slug"] == slug
    mine = await api.get("/api/organizations", headers=owner["headers"])
    assert [o["slug"] for o in mine.json()["organizations"]] == [slug]
    created = await audit(api, admin, action="organization.created", targetId=first.json()["id"])
    assert len(created) == 1


async def test_concurrent_retries_create_one_organization(api, auth):
    owner = await new_user(auth)
    headers = {**owner["headers"], "Idempotency-Key": "org-race"}
    body = {"slug": unique_slug(), "name": "Race"}
    answers = await asyncio.gather(
        *(api.post("/api/organizations", json=body, headers=headers) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    mine = await api.get("/api/organizations", headers=owner["headers"])
    assert len(mine.json()["organizations"]) == 1


async def test_a_dry_run_does_not_take_the_key(api, auth):
    owner = await new_user(auth)
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    body = {"slug": unique_slug(), "name": "Dry"}
    dry = await api.post("/api/organizations", json={**body, "dryRun": True}, headers=headers)
    assert dry.status_code == 200, dry.text
    real = await api.post("/api/organizations", json=body, headers=headers)
    assert real.status_code == 201, real.text
    assert "Idempotent-Replayed" not in real.headers


async def test_a_refused_request_leaves_no_key_behind(api, auth):
    owner = await new_user(auth)
    taken = await new_org(api, owner["headers"])
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    refused = await api.post(
        "/api/organizations", json={"slug": taken["slug"], "name": "Dup"}, headers=headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "slug_taken")
    # The key was not kept: another body with it is a new request, not a 422.
    retried = await api.post(
        "/api/organizations", json={"slug": unique_slug(), "name": "Dup"}, headers=headers
    )
    assert retried.status_code == 201, retried.text


async def test_members_and_invitations_once_per_key(api, auth):
    owner = await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    joining, other = await new_user(auth), await new_user(auth)
    members = f"/api/organizations/{org['id']}/members"
    await twice(
        api, members, {"username": joining["username"]}, admin, {"username": other["username"]}
    )
    listed = await api.get(members, headers=owner["headers"])
    assert [m["userId"] for m in listed.json()["members"]].count(joining["id"]) == 1
    invitations = f"/api/organizations/{org['id']}/invitations"
    invited = await twice(
        api,
        invitations,
        {"email": "once@example.com"},
        owner["headers"],
        {"email": "twice@example.com"},
    )
    open_ = await api.get(invitations, headers=owner["headers"])
    assert [i["id"] for i in open_.json()["invitations"]] == [invited.json()["id"]]


async def test_model_groups_and_plans_once_per_key(api, auth):
    admin = await login(auth, "admin")
    name = f"group-{uuid.uuid4().hex[:8]}"
    await twice(
        api,
        "/api/model-groups",
        {"name": name, "models": [HAIKU]},
        admin,
        {"name": f"{name}-b", "models": [HAIKU]},
    )
    groups = (await api.get("/api/model-groups", headers=admin)).json()["modelGroups"]
    assert [g["name"] for g in groups].count(name) == 1
    plan_name = f"plan-{uuid.uuid4().hex[:8]}"
    terms = {"monthlyCredits": 5, "requestsPerMinute": 10}
    plan = await twice(
        api,
        "/api/plans",
        {"name": plan_name, **terms},
        admin,
        {"name": f"{plan_name}-b", **terms},
    )
    versions = f"/api/plans/{plan.json()['id']}/versions"
    await twice(
        api, versions, {**terms, "monthlyCredits": 6}, admin, {**terms, "monthlyCredits": 7}
    )
    history = await api.get(f"/api/plans/{plan.json()['id']}/history", headers=admin)
    assert [v["monthlyCredits"] for v in history.json()["versions"]] == [5, 6]


async def test_team_keys_are_minted_and_rotated_once_per_key(api, auth, accounting):
    owner = await owner_with(auth, accounting, 0)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    keys = f"/api/teams/{created.json()['id']}/keys"
    minted = await twice(api, keys, {"name": "ci"}, owner["headers"], {"name": "other"})
    listed = (await api.get(keys, headers=owner["headers"])).json()["keys"]
    assert [k["id"] for k in listed] == [minted.json()["id"]]
    rotate = f"{keys}/{minted.json()['id']}/rotate"
    rotated = await twice(
        api, rotate, {"gracePeriodSeconds": 60}, owner["headers"], {"gracePeriodSeconds": 0}
    )
    listed = (await api.get(keys, headers=owner["headers"])).json()["keys"]
    assert {k["id"] for k in listed} == {minted.json()["id"], rotated.json()["id"]}


async def test_keys_are_per_caller(api, auth):
    first, second = await new_user(auth), await new_user(auth)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    mine = await api.post(
        "/api/organizations",
        json={"slug": unique_slug(), "name": "A"},
        headers={**first["headers"], **key},
    )
    theirs = await api.post(
        "/api/organizations",
        json={"slug": unique_slug(), "name": "B"},
        headers={**second["headers"], **key},
    )
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert "Idempotent-Replayed" not in theirs.headers


async def test_every_creating_post_documents_the_key(api, auth):
    await model_group(api, await login(auth, "admin"), [HAIKU])
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/organizations",
        "/api/organizations/{org_id}/members",
        "/api/organizations/{org_id}/invitations",
        "/api/teams",
        "/api/teams/{team_id}/credits",
        "/api/teams/{team_id}/keys",
        "/api/teams/{team_id}/keys/{key_id}/rotate",
        "/api/model-groups",
        "/api/plans",
        "/api/plans/{plan_id}/versions",
    ):
        operation = paths[path]["post"]
        names = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"], path
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"], path
