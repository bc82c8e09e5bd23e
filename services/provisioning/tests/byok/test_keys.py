"""Storing, listing and deleting BYOK credentials: only last4 is ever shown, the secret is
encrypted at rest, and no one sees or deletes another's (404)."""

import asyncio

from ..conftest import audit, login, new_user
from .conftest import GOOD_ACCESS_KEY_ID, GOOD_KEY, MAX_KEYS, store, team_of


async def test_the_providers_and_their_fields(api, auth, byok):
    user = await new_user(auth)
    response = await api.get("/api/byok/providers", headers=user["headers"])
    assert response.status_code == 200
    providers = {p["id"]: p for p in response.json()}
    assert set(providers) == {"openai", "anthropic", "bedrock", "openai-compatible"}
    assert providers["openai-compatible"]["baseUrl"] == "required"
    assert [f["name"] for f in providers["bedrock"]["fields"]][:2] == [
        "accessKeyId",
        "secretAccessKey",
    ]
    assert (await api.get("/api/byok/providers")).status_code == 401


async def test_a_stored_key_shows_only_its_last4_and_is_encrypted_at_rest(api, auth, stack, byok):
    user = await new_user(auth)
    created = await store(api, user["headers"], label="  work  ")
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["provider"], body["label"], body["last4"], body["teamId"]) == (
        "openai",
        "work",
        GOOD_KEY[-4:],
        None,
    )
    assert GOOD_KEY not in created.text
    listed = await api.get("/api/byok/keys", headers=user["headers"])
    assert [k["id"] for k in listed.json()["keys"]] == [body["id"]]
    assert GOOD_KEY not in listed.text
    async with stack.app.state.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM byok_credentials WHERE id = $1::uuid", body["id"])
    assert GOOD_KEY.encode() not in bytes(row["secret_ciphertext"])
    assert GOOD_KEY not in str(dict(row))


async def test_bedrock_keys_show_the_access_key_ids_last4(api, auth, byok):
    user = await new_user(auth)
    created = await store(
        api,
        user["headers"],
        provider="bedrock",
        credentials={"accessKeyId": GOOD_ACCESS_KEY_ID, "secretAccessKey": "s3cr3t-value-xyz"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["last4"] == GOOD_ACCESS_KEY_ID[-4:]
    assert "s3cr3t-value-xyz" not in created.text


async def test_another_user_cannot_see_validate_or_delete_it(api, auth, byok):
    owner, other = await new_user(auth), await new_user(auth)
    key = (await store(api, owner["headers"])).json()
    assert (await api.get("/api/byok/keys", headers=other["headers"])).json()["keys"] == []
    for method, path in (
        ("DELETE", f"/api/byok/keys/{key['id']}"),
        ("POST", f"/api/byok/keys/{key['id']}/validate"),
    ):
        response = await api.request(method, path, headers=other["headers"])
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    still = await api.get("/api/byok/keys", headers=owner["headers"])
    assert [k["id"] for k in still.json()["keys"]] == [key["id"]]


async def test_deleting_removes_it_and_both_are_audited_without_the_secret(api, auth, byok):
    user = await new_user(auth)
    key = (await store(api, user["headers"])).json()
    deleted = await api.delete(f"/api/byok/keys/{key['id']}", headers=user["headers"])
    assert deleted.status_code == 200
    assert (await api.get("/api/byok/keys", headers=user["headers"])).json()["keys"] == []
    again = await api.delete(f"/api/byok/keys/{key['id']}", headers=user["headers"])
    assert again.status_code == 404
    entries = await audit(api, await login(auth, "admin"), targetId=key["id"])
    assert sorted(e["action"] for e in entries) == ["byok_key.created", "byok_key.deleted"]
    assert all(GOOD_KEY not in str(e) for e in entries)
    assert all(GOOD_KEY[-4:] in str(e) for e in entries)


async def test_team_keys_are_for_the_teams_owners_and_admins(api, auth, byok):
    team = await team_of(api, auth)
    owner, member, outsider = team["owner"], team["member"], team["outsider"]
    refused = await store(api, member["headers"], teamId=team["id"])
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    unknown = await store(api, outsider["headers"], teamId=team["id"])
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    created = await store(api, owner["headers"], teamId=team["id"])
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["teamId"] == team["id"]
    listed = await api.get(
        "/api/byok/keys", params={"teamId": team["id"]}, headers=owner["headers"]
    )
    assert [k["id"] for k in listed.json()["keys"]] == [key["id"]]
    assert (await api.get("/api/byok/keys", headers=owner["headers"])).json()["keys"] == []
    member_list = await api.get(
        "/api/byok/keys", params={"teamId": team["id"]}, headers=member["headers"]
    )
    assert member_list.status_code == 403
    for user in (member, outsider):
        response = await api.delete(f"/api/byok/keys/{key['id']}", headers=user["headers"])
        assert response.status_code == 404
    entries = await audit(api, await login(auth, "admin"), targetId=key["id"])
    assert [e["organizationId"] for e in entries] == [team["organizationId"]]
    assert (
        await api.delete(f"/api/byok/keys/{key['id']}", headers=owner["headers"])
    ).status_code == 200


async def test_bad_bodies_are_422(api, auth, byok):
    user = await new_user(auth)
    cases = [
        {"provider": "nope"},
        {"credentials": {"apiKey": "short"}},
        {"credentials": {"apiKey": GOOD_KEY, "extra": 1}},
        {"baseUrl": "https://example.com"},  # only an OpenAI-compatible server has one
        {"provider": "openai-compatible"},  # ... and it needs one
        {"provider": "bedrock"},  # AWS keys, not an API key
        {"label": ""},
    ]
    for case in cases:
        response = await store(api, user["headers"], **case)
        assert response.status_code == 422, case
    bad_scheme = await store(
        api, user["headers"], provider="openai-compatible", baseUrl="ftp://example.com"
    )
    assert (bad_scheme.status_code, bad_scheme.json()["code"]) == (422, "invalid_base_url")
    assert (await api.get("/api/byok/keys", headers=user["headers"])).json()["keys"] == []


async def test_at_most_max_keys_per_owner_even_when_sent_at_once(api, auth, byok):
    user = await new_user(auth)
    responses = await asyncio.gather(
        *(store(api, user["headers"], label=f"k{i}") for i in range(MAX_KEYS + 4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * MAX_KEYS + [409] * 4
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"too_many_keys"}
    listed = await api.get("/api/byok/keys", headers=user["headers"])
    assert len(listed.json()["keys"]) == MAX_KEYS


async def test_an_idempotency_key_stores_it_once(api, auth, stack, byok):
    user = await new_user(auth)
    headers = {**user["headers"], "Idempotency-Key": "byok-once"}
    first, second = await store(api, headers), await store(api, headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len((await api.get("/api/byok/keys", headers=user["headers"])).json()["keys"]) == 1
    other_body = await store(api, headers, label="other")
    assert (other_body.status_code, other_body.json()["code"]) == (422, "idempotency_key_reused")
