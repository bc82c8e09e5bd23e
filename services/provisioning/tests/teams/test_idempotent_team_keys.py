"""Team keys with an Idempotency-Key, end to end (issue 14): provisioning sends auth a key of
its own, so a retry after a crash between auth's mint and provisioning's commit answers the key
auth minted then, and no unused second key is left at auth."""

import uuid

import asyncpg
import pytest

from idempotency import IdempotentRequest
from provisioning.idempotent import Once
from provisioning.team_keys import service as team_keys_service
from provisioning.team_keys.service import auth_key

from ..conftest import HAIKU, SONNET, audit, login, service_headers
from ..crashes import crash_once
from .funding import owner_with
from .test_team_credits import new_team

INTERNAL = service_headers()


def crash_once_after_auth(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next team key's audit write fails (its transaction rolls back): after auth's mint
    or rotation committed."""
    return crash_once(monkeypatch, team_keys_service, "_audit")


async def keys_at_auth(auth, team_id: str) -> list[dict]:
    """The team's keys as auth holds them (whatever provisioning recorded)."""
    response = await auth.get("/internal/api-keys", params={"teamId": team_id}, headers=INTERNAL)
    assert response.status_code == 200, response.text
    return response.json()["keys"]


async def keyed_team(api, auth, accounting):
    owner = await owner_with(auth, accounting, 0)
    admin = await login(auth, "admin")
    _, created = await new_team(api, owner, admin)
    assert created.status_code == 201, created.text
    return created.json(), owner, admin


async def test_a_mint_retried_after_a_crash_past_auth_answers_the_same_key(
    api, auth, accounting, monkeypatch
):
    team, owner, admin = await keyed_team(api, auth, accounting)
    keys = f"/api/teams/{team['id']}/keys"
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    crashes = crash_once_after_auth(monkeypatch)
    crashed = await api.post(keys, json={"name": "ci"}, headers=headers)
    assert crashed.status_code == 500  # the answer is lost
    assert crashes == [1]
    (minted_at_auth,) = await keys_at_auth(auth, team["id"])  # auth committed its key
    retry = await api.post(keys, json={"name": "ci"}, headers=headers)
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers  # the first answer provisioning kept
    assert retry.json()["id"] == minted_at_auth["id"]
    assert retry.json()["key"].startswith(minted_at_auth["prefix"])
    assert [k["id"] for k in await keys_at_auth(auth, team["id"])] == [minted_at_auth["id"]]
    (entry,) = await audit(api, admin, action="team_key.created", targetId=retry.json()["id"])
    assert entry["after"]["prefix"] == minted_at_auth["prefix"]
    replay = await api.post(keys, json={"name": "ci"}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == retry.content


async def test_a_rotation_retried_after_a_crash_past_auth_rotates_once(
    api, auth, accounting, monkeypatch
):
    team, owner, admin = await keyed_team(api, auth, accounting)
    keys = f"/api/teams/{team['id']}/keys"
    old = (await api.post(keys, json={"name": "svc"}, headers=owner["headers"])).json()
    rotate = f"{keys}/{old['id']}/rotate"
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    crash_once_after_auth(monkeypatch)
    body = {"gracePeriodSeconds": 60}
    assert (await api.post(rotate, json=body, headers=headers)).status_code == 500
    retry = await api.post(rotate, json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    at_auth = {k["id"] for k in await keys_at_auth(auth, team["id"])}
    assert at_auth == {old["id"], retry.json()["id"]}  # one new key, not two
    rotated = await audit(api, admin, action="team_key.rotated", targetId=old["id"])
    assert [e["after"]["replacedBy"] for e in rotated] == [retry.json()["id"]]


def test_auths_key_is_one_per_caller_key_team_and_operation():
    def once(caller: str, key: str) -> Once:
        return Once(caller, IdempotentRequest(key, "POST /x", b"\0" * 32), 201)

    team, other_team = uuid.uuid4(), uuid.uuid4()
    named = auth_key("mint", team, once("alice", "k"))
    assert named == auth_key("mint", team, once("alice", "k"))
    assert named is not None and len(named) <= 255
    assert (
        len(
            {
                named,
                auth_key("mint", other_team, once("alice", "k")),
                auth_key("mint", team, once("bob", "k")),
                auth_key("mint", team, once("alice", "k2")),
                auth_key("rotate-x", team, once("alice", "k")),
            }
        )
        == 5
    )
    assert auth_key("mint", team, None) is None


async def test_a_retry_after_the_teams_models_changed_is_422_and_mints_nothing(
    api, auth, accounting, stack, monkeypatch
):
    team, owner, _ = await keyed_team(api, auth, accounting)
    keys = f"/api/teams/{team['id']}/keys"
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    crash_once_after_auth(monkeypatch)
    assert (await api.post(keys, json={"name": "ci"}, headers=headers)).status_code == 500
    (group,) = team["modelGroups"]
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        await conn.execute(
            "UPDATE model_groups SET models = $1 WHERE name = $2", [HAIKU, SONNET], group
        )
    finally:
        await conn.close()
    retry = await api.post(keys, json={"name": "ci"}, headers=headers)
    assert (retry.status_code, retry.json()["code"]) == (422, "idempotency_key_reused")
    assert len(await keys_at_auth(auth, team["id"])) == 1  # the crashed one's, no other
    fresh = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    assert (await api.post(keys, json={"name": "ci"}, headers=fresh)).status_code == 201
