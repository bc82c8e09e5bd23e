"""Idempotency-Key on team creation and funding (issue 14): credits move once per key, even when
provisioning fails after accounting moved them and the client retries."""

import asyncio
import uuid

import pytest

from provisioning.teams import service as teams_service

from ..conftest import audit, login, new_org
from ..crashes import crash_once
from .funding import account_credits, available, owner_with
from .test_team_credits import fund, new_team


def crash_once_after_accounting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next funding's audit write fails (its transaction rolls back)."""
    return crash_once(monkeypatch, teams_service, "_record_funding")


async def test_a_retry_after_a_crash_past_accounting_moves_credits_once(
    api, auth, accounting, monkeypatch
):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    crashes = crash_once_after_accounting(monkeypatch)
    key = str(uuid.uuid4())
    crashed = await fund(api, team["id"], 3, owner["headers"], key=key)
    assert crashed.status_code == 500  # the answer is lost
    assert crashes == [1]
    # Accounting committed the move; provisioning kept neither the key nor the audit entry.
    assert await available(accounting, owner) == 7
    retry = await fund(api, team["id"], 3, owner["headers"], key=key)
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers  # the first answer provisioning kept
    assert (retry.json()["callerCredits"], retry.json()["teamCredits"]) == (7, 3)
    assert await available(accounting, owner) == 7
    assert await account_credits(accounting, team["accountId"]) == 3
    (entry,) = await audit(api, admin, action="team.funded", targetId=team["id"])
    assert entry["after"]["transferId"] == retry.json()["transferId"]
    replay = await fund(api, team["id"], 3, owner["headers"], key=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == retry.content


async def test_an_admins_grant_retried_after_a_crash_is_granted_once(
    api, auth, accounting, monkeypatch
):
    owner = await owner_with(auth, accounting, 0)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    crash_once_after_accounting(monkeypatch)
    key = str(uuid.uuid4())
    crashed = await fund(api, team["id"], 5, admin, key=key)
    assert crashed.status_code == 500
    retry = await fund(api, team["id"], 5, admin, key=key)
    assert retry.status_code == 201, retry.text
    assert await account_credits(accounting, team["accountId"]) == 5
    assert len(await audit(api, admin, action="team.funded", targetId=team["id"])) == 1


async def test_one_key_on_another_team_is_422_and_moves_nothing(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    org, first_team = await new_team(api, owner, admin)
    body = {"organizationId": org["id"], "name": "second", "modelGroups": []}
    body["modelGroups"] = first_team.json()["modelGroups"]
    second_team = await api.post("/api/teams", json=body, headers=owner["headers"])
    key = str(uuid.uuid4())
    assert (
        await fund(api, first_team.json()["id"], 2, owner["headers"], key=key)
    ).status_code == 201
    reused = await fund(api, second_team.json()["id"], 2, owner["headers"], key=key)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert await available(accounting, owner) == 8
    assert await account_credits(accounting, second_team.json()["accountId"]) == 0


async def test_keys_are_per_caller(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    team = created.json()
    key = str(uuid.uuid4())
    mine = await fund(api, team["id"], 2, owner["headers"], key=key)
    granted = await fund(api, team["id"], 2, admin, key=key)
    assert (mine.status_code, granted.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in granted.headers
    assert (mine.json()["source"], granted.json()["source"]) == ("transfer", "grant")
    assert await account_credits(accounting, team["accountId"]) == 4


async def test_one_key_creates_one_team_with_its_initial_credits_once(api, auth, accounting):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    _, probe = await new_team(api, owner, admin, org=org)  # a model group that exists
    body = {
        "organizationId": org["id"],
        "name": "keyed",
        "modelGroups": probe.json()["modelGroups"],
        "initialCredits": 4,
    }
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    answers = await asyncio.gather(
        *(api.post("/api/teams", json=body, headers=headers) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 2
    assert await available(accounting, owner) == 6
    listed = await api.get(
        "/api/teams", params={"organizationId": org["id"]}, headers=owner["headers"]
    )
    assert [t["name"] for t in listed.json()["teams"]].count("keyed") == 1
    renamed = await api.post("/api/teams", json={**body, "name": "other"}, headers=headers)
    assert (renamed.status_code, renamed.json()["code"]) == (422, "idempotency_key_reused")


async def test_a_team_retried_after_a_crash_is_made_once_and_funded_once(
    api, auth, accounting, monkeypatch
):
    owner = await owner_with(auth, accounting, 10)
    admin = await login(auth, "admin")
    org, probe = await new_team(api, owner, admin)
    body = {
        "organizationId": org["id"],
        "name": "after-crash",
        "modelGroups": probe.json()["modelGroups"],
        "initialCredits": 3,
    }
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    crash_once_after_accounting(monkeypatch)
    crashed = await api.post("/api/teams", json=body, headers=headers)
    assert crashed.status_code == 500
    assert await available(accounting, owner) == 7  # accounting moved them; no team was kept
    retry = await api.post("/api/teams", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.json()["credits"] == 3
    assert await available(accounting, owner) == 7
    assert await account_credits(accounting, retry.json()["accountId"]) == 3
    assert len(await audit(api, admin, action="team.funded", targetId=retry.json()["id"])) == 1


async def test_the_header_and_its_answers_are_documented(api):
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path in ("/api/teams", "/api/teams/{team_id}/credits"):
        operation = paths[path]["post"]
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header"
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
        assert operation["responses"]["201"]["content"]["application/json"]["schema"]
