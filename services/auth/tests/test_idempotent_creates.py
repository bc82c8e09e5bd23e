"""Idempotency-Key on auth's creating POSTs (issue 14): registration, personal API keys and 2FA
setup answer a retry with the first response and create nothing twice; kept responses are
sealed, and a registration's body is kept only as a keyed digest."""

import asyncio
import hashlib
import time
import uuid

import asyncpg
import pyotp

from .conftest import bearer, register, service_headers, unique_username

KEYS = "/api/auth/api-keys"


def keyed(key: str, headers: dict | None = None) -> dict[str, str]:
    return {**(headers or {}), "Idempotency-Key": key}


def registration(username: str, password: str = "Str0ng-pass!") -> dict:
    return {"username": username, "email": f"{username}@example.com", "password": password}


async def kept_rows(settings, key: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetch("SELECT * FROM idempotency_keys WHERE key = $1", key)
    finally:
        await conn.close()


async def users_named(settings, username: str) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM users WHERE username = $1", username)
    finally:
        await conn.close()


async def test_a_retried_registration_registers_once_and_replays_its_tokens(client, settings):
    username, key = unique_username(), str(uuid.uuid4())
    body = registration(username)
    first = await client.post("/api/auth/register", json=body, headers=keyed(key))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/api/auth/register", json=body, headers=keyed(key))
    assert again.status_code == 201, again.text  # not 409 username_taken
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await users_named(settings, username) == 1
    # Neither the tokens nor a fast hash of the password are in the database.
    (row,) = await kept_rows(settings, key)
    assert first.json()["refreshToken"].encode() not in bytes(row["body"])
    assert bytes(row["request_sha256"]) != hashlib.sha256(first.request.content).digest()
    assert row["caller"] == f"register:{username.lower()}"


async def test_the_same_key_and_name_with_another_password_is_422_and_gets_no_tokens(client):
    username, key = unique_username(), str(uuid.uuid4())
    assert (
        await client.post("/api/auth/register", json=registration(username), headers=keyed(key))
    ).status_code == 201
    guess = registration(username, password="An0ther-guess!")
    refused = await client.post("/api/auth/register", json=guess, headers=keyed(key))
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_reused")
    assert "accessToken" not in refused.json()


async def test_strangers_registering_with_one_key_do_not_meet(client):
    key = str(uuid.uuid4())
    answers = [
        await client.post(
            "/api/auth/register", json=registration(unique_username()), headers=keyed(key)
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert "idempotent-replayed" not in answers[1].headers
    assert answers[0].json()["user"]["id"] != answers[1].json()["user"]["id"]


async def test_concurrent_registrations_with_one_key_register_once(client, settings):
    username, key = unique_username(), str(uuid.uuid4())
    body = registration(username)
    answers = await asyncio.gather(
        *(client.post("/api/auth/register", json=body, headers=keyed(key)) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert await users_named(settings, username) == 1


async def test_a_refused_registration_keeps_no_key(client):
    username, key = unique_username(), str(uuid.uuid4())
    weak = await client.post(
        "/api/auth/register", json=registration(username, "password"), headers=keyed(key)
    )
    assert weak.status_code == 400
    fixed = await client.post("/api/auth/register", json=registration(username), headers=keyed(key))
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers


async def test_a_personal_key_is_minted_once_per_key(client, settings):
    token = (await register(client))["accessToken"]
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            client.post(KEYS, json={"name": "ci"}, headers=keyed(key, bearer(token)))
            for _ in range(3)
        )
    )
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" in a.headers for a in answers) == 2
    listed = (await client.get(KEYS, headers=bearer(token))).json()["keys"]
    assert [k["id"] for k in listed] == [answers[0].json()["id"]]
    (row,) = await kept_rows(settings, key)
    assert answers[0].json()["key"].encode() not in bytes(row["body"])  # sealed
    other = await client.post(KEYS, json={"name": "cd"}, headers=keyed(key, bearer(token)))
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


async def test_personal_keys_are_per_caller(client):
    first, second = [(await register(client))["accessToken"] for _ in range(2)]
    key = str(uuid.uuid4())
    mine = await client.post(KEYS, json={"name": "ci"}, headers=keyed(key, bearer(first)))
    theirs = await client.post(KEYS, json={"name": "ci"}, headers=keyed(key, bearer(second)))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["key"] != theirs.json()["key"]


async def test_a_replayed_2fa_setup_answers_the_same_secret_and_keeps_it(client):
    token = (await register(client))["accessToken"]
    key = str(uuid.uuid4())
    first = await client.post("/api/auth/2fa/setup", headers=keyed(key, bearer(token)))
    again = await client.post("/api/auth/2fa/setup", headers=keyed(key, bearer(token)))
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    # The secret pending is still the first one: a code of it turns 2FA on.
    code = pyotp.TOTP(first.json()["secret"]).now()
    verified = await client.post("/api/auth/2fa/verify", json={"code": code}, headers=bearer(token))
    assert verified.status_code == 200, verified.text


async def _set_up(client, token: str) -> str:
    setup = await client.post("/api/auth/2fa/setup", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    return str(setup.json()["secret"])


async def test_a_retried_2fa_verify_answers_the_backup_codes_it_showed(client, settings):
    token = (await register(client))["accessToken"]
    code = pyotp.TOTP(await _set_up(client, token)).now()
    key = str(uuid.uuid4())
    first = await client.post(
        "/api/auth/2fa/verify", json={"code": code}, headers=keyed(key, bearer(token))
    )
    assert first.status_code == 200, first.text
    # Its answer lost, the client retries: not 409 mfa_already_enabled, the same ten codes.
    again = await client.post(
        "/api/auth/2fa/verify", json={"code": code}, headers=keyed(key, bearer(token))
    )
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    (row,) = await kept_rows(settings, key)
    assert first.json()["backupCodes"][0].encode() not in bytes(row["body"])  # kept sealed
    # Without the key, a second verify is refused as before.
    plain = await client.post("/api/auth/2fa/verify", json={"code": code}, headers=bearer(token))
    assert plain.status_code == 409 and plain.json()["code"] == "mfa_already_enabled"


async def test_concurrent_2fa_verifies_with_one_key_turn_it_on_once(client, settings):
    token = (await register(client))["accessToken"]
    code = pyotp.TOTP(await _set_up(client, token)).now()
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/auth/2fa/verify", json={"code": code}, headers=keyed(key, bearer(token))
            )
            for _ in range(5)
        )
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1  # one set of backup codes, shown to all
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1


async def test_a_wrong_code_with_a_key_keeps_no_key(client, settings):
    token = (await register(client))["accessToken"]
    secret = await _set_up(client, token)
    key = str(uuid.uuid4())
    totp, now = pyotp.TOTP(secret), time.time()
    near = {totp.at(now + step) for step in (-60, -30, 0, 30, 60)}
    wrong_code = next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near
    )
    wrong = await client.post(
        "/api/auth/2fa/verify", json={"code": wrong_code}, headers=keyed(key, bearer(token))
    )
    assert wrong.status_code == 400, wrong.text
    assert await kept_rows(settings, key) == []
    right = await client.post(
        "/api/auth/2fa/verify",
        json={"code": pyotp.TOTP(secret).now()},
        headers=keyed(key, bearer(token)),
    )
    assert right.status_code == 200 and "idempotent-replayed" not in right.headers


async def test_a_sealed_response_copied_to_another_caller_does_not_open(client, settings):
    first, second = [(await register(client))["accessToken"] for _ in range(2)]
    key = str(uuid.uuid4())
    made = await client.post(KEYS, json={"name": "ci"}, headers=keyed(key, bearer(first)))
    assert made.status_code == 201
    me = (await client.get("/api/auth/me", headers=bearer(second))).json()["id"]
    conn = await asyncpg.connect(settings.database_url)
    try:  # as if someone with the database moved the first caller's row to the second
        await conn.execute("UPDATE idempotency_keys SET caller = $1 WHERE key = $2", me, key)
    finally:
        await conn.close()
    stolen = await client.post(KEYS, json={"name": "ci"}, headers=keyed(key, bearer(second)))
    assert stolen.status_code == 422, stolen.text
    assert made.json()["key"] not in stolen.text


async def test_the_key_is_documented_on_every_creating_post(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, success in (
        ("/api/auth/register", "201"),
        ("/api/auth/api-keys", "201"),
        ("/api/auth/2fa/setup", "200"),
        ("/api/auth/2fa/verify", "200"),
        ("/internal/api-keys", "201"),
        ("/internal/api-keys/{key_id}/rotate", "201"),
    ):
        operation = paths[path]["post"]
        names = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"], path
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"], path
    assert "password" in paths["/api/auth/register"]["post"]["description"]


async def test_a_services_team_key_is_minted_and_rotated_once_per_key(client):
    internal = service_headers("provisioning")
    team = f"team-{uuid.uuid4().hex[:8]}"
    body = {"teamId": team, "accountId": str(uuid.uuid4()), "name": "ci", "createdBy": "o"}
    key = str(uuid.uuid4())
    answers = [
        await client.post("/internal/api-keys", json=body, headers=keyed(key, internal))
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[1].text
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].content == answers[0].content
    listed = await client.get("/internal/api-keys", params={"teamId": team}, headers=internal)
    assert [k["id"] for k in listed.json()["keys"]] == [answers[0].json()["id"]]
    rotate = f"/internal/api-keys/{answers[0].json()['id']}/rotate"
    rotation = {"gracePeriodSeconds": 5, "createdBy": "o"}
    rotated = [
        await client.post(rotate, json=rotation, headers=keyed(key, internal)) for _ in range(2)
    ]
    # One key, another path: the key is the mint's, so the rotation is refused, not replayed.
    assert (rotated[0].status_code, rotated[0].json()["code"]) == (422, "idempotency_key_reused")
    other = str(uuid.uuid4())
    rotated = [
        await client.post(rotate, json=rotation, headers=keyed(other, internal)) for _ in range(2)
    ]
    assert [r.status_code for r in rotated] == [201, 201], rotated[1].text
    assert rotated[1].content == rotated[0].content
    listed = await client.get("/internal/api-keys", params={"teamId": team}, headers=internal)
    assert len(listed.json()["keys"]) == 2
