"""Personal API keys: a user's own ``sk-`` keys, acting as them with the role ``enduser``."""

import asyncio
import uuid

import asyncpg
import orjson
import pytest

from .conftest import admin_token, bearer, register, service_headers
from .revocations.test_revocations import verifier_refuses_within
from .test_api_keys import exchange, mint

KEYS = "/api/auth/api-keys"
GATEWAY = service_headers("gateway")
PROVISIONING = service_headers("provisioning")


async def create(client, token: str, **body) -> dict:
    response = await client.post(KEYS, json={"name": "laptop", **body}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def exchanged_claims(app, client, key: str) -> tuple[str, dict]:
    response = await exchange(client, key)
    assert response.status_code == 200, response.text
    token = response.json()["accessToken"]
    return token, app.state.token_verifier.verify(token).claims


async def set_user(client, user_id: str, **changes) -> None:
    admin = await admin_token(client)
    response = await client.patch(f"/api/auth/users/{user_id}", json=changes, headers=bearer(admin))
    assert response.status_code == 200, response.text


async def db_fetch(settings, query: str, *args) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_create_list_and_revoke_my_own_key(client, settings):
    user = await register(client)
    token = user["accessToken"]
    created = await create(
        client, token, name="ci", models=["m-1", "m-2"], requestsPerMinute=30, expiresInDays=7
    )
    assert created["key"].startswith("sk-") and created["key"].startswith(created["prefix"])
    assert (created["name"], created["models"], created["requestsPerMinute"]) == (
        "ci",
        ["m-1", "m-2"],
        30,
    )
    assert created["expiresAt"] and created["revokedAt"] is None

    listed = await client.get(KEYS, headers=bearer(token))
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()["keys"]] == [created["id"]]
    assert created["key"] not in listed.text and "key" not in listed.json()["keys"][0]
    stored = await db_fetch(
        settings, "SELECT key_hash FROM api_keys WHERE id = $1", uuid.UUID(created["id"])
    )
    assert stored[0]["key_hash"] != created["key"]

    revoked = await client.delete(f"{KEYS}/{created['id']}", headers=bearer(token))
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    assert (await client.get(KEYS, headers=bearer(token))).json()["keys"] == []
    refused = await exchange(client, created["key"])
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_api_key")


async def test_another_user_cannot_list_revoke_or_learn_of_my_key(client):
    mine, theirs = await register(client), await register(client)
    key = await create(client, mine["accessToken"])
    listed = await client.get(KEYS, headers=bearer(theirs["accessToken"]))
    assert listed.json()["keys"] == [] and key["id"] not in listed.text

    other = await client.delete(f"{KEYS}/{key['id']}", headers=bearer(theirs["accessToken"]))
    missing = await client.delete(f"{KEYS}/{uuid.uuid4()}", headers=bearer(theirs["accessToken"]))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {"message": "API key not found", "code": "not_found"}
    assert (await exchange(client, key["key"])).status_code == 200


async def test_team_keys_are_neither_listed_nor_revoked_here_nor_personal_keys_there(client):
    user = await register(client)
    _, team_key = await mint(client)
    listed = await client.get(KEYS, headers=bearer(user["accessToken"]))
    assert team_key["id"] not in listed.text
    revoked = await client.delete(f"{KEYS}/{team_key['id']}", headers=bearer(user["accessToken"]))
    assert revoked.status_code == 404
    assert (await exchange(client, team_key["key"])).status_code == 200

    personal = await create(client, user["accessToken"])
    path = f"/internal/api-keys/{personal['id']}"
    assert (await client.delete(path, headers=PROVISIONING)).status_code == 404
    rotated = await client.post(f"{path}/rotate", json={"createdBy": "x"}, headers=PROVISIONING)
    assert rotated.status_code == 404
    assert (await exchange(client, personal["key"])).status_code == 200


async def test_key_tokens_and_service_tokens_cannot_manage_keys(app, client):
    user = await register(client)
    personal = await create(client, user["accessToken"])
    personal_token, _ = await exchanged_claims(app, client, personal["key"])
    _, team_key = await mint(client)
    team_token, _ = await exchanged_claims(app, client, team_key["key"])
    for headers in (bearer(personal_token), bearer(team_token), GATEWAY, PROVISIONING):
        for method, path, body in (
            ("POST", KEYS, {"name": "successor"}),
            ("GET", KEYS, None),
            ("DELETE", f"{KEYS}/{personal['id']}", None),
        ):
            response = await client.request(method, path, json=body, headers=headers)
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), (
                method,
                response.text,
            )
    assert (await exchange(client, personal["key"])).status_code == 200  # not revoked
    anonymous = await client.post(KEYS, json={"name": "x"})
    assert anonymous.status_code == 401


async def test_a_personal_key_acts_as_its_owner_with_the_role_enduser(app, client):
    user = await register(client)
    key = await create(client, user["accessToken"], models=["m-1"], requestsPerMinute=12)
    token, claims = await exchanged_claims(app, client, key["key"])
    assert claims["sub"] == user["user"]["id"]
    assert claims["username"] == user["user"]["username"]
    assert claims["email"] == user["user"]["email"]
    assert (claims["role"], claims["type"], claims["tv"]) == ("enduser", "access", 0)
    assert (claims["keyId"], claims["models"], claims["requestsPerMinute"]) == (
        key["id"],
        ["m-1"],
        12,
    )
    assert not {"teamId", "accountId", "organizationId"} & claims.keys()
    me = await client.get("/api/auth/me", headers=bearer(token))
    assert me.json()["id"] == user["user"]["id"]

    plain = await create(client, user["accessToken"])
    _, claims = await exchanged_claims(app, client, plain["key"])
    assert "models" not in claims and "requestsPerMinute" not in claims


async def test_an_admins_key_is_only_an_enduser(app, client):
    admin = await admin_token(client)
    key = await create(client, admin)
    token, claims = await exchanged_claims(app, client, key["key"])
    assert claims["role"] == "enduser" and claims["username"] == "admin"
    users = await client.get("/api/auth/users", headers=bearer(token))
    assert users.status_code == 403
    me = (await client.get("/api/auth/me", headers=bearer(token))).json()
    assert (me["username"], me["role"]) == ("admin", "enduser")
    assert (await client.get("/api/auth/me", headers=bearer(admin))).json()["role"] == "admin"
    await client.delete(f"{KEYS}/{key['id']}", headers=bearer(admin))


async def test_a_revoked_keys_tokens_are_refused_and_the_revocation_names_the_user(
    app, client, settings
):
    user = await register(client)
    key = await create(client, user["accessToken"])
    token, _ = await exchanged_claims(app, client, key["key"])
    revoked = await client.delete(f"{KEYS}/{key['id']}", headers=bearer(user["accessToken"]))
    assert revoked.status_code == 200
    await verifier_refuses_within(app, token)
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401
    assert (await exchange(client, key["key"])).status_code == 401
    events = await db_fetch(
        settings,
        "SELECT payload FROM event_outbox WHERE routing_key = 'api_key.revoked' "
        "AND payload->>'keyId' = $1",
        key["id"],
    )
    body = orjson.loads(events[0]["payload"])
    assert body["userId"] == user["user"]["id"] and "teamId" not in body

    team, team_key = await mint(client)  # a team key's revocation still names its team
    await client.delete(f"/internal/api-keys/{team_key['id']}", headers=PROVISIONING)
    events = await db_fetch(
        settings, "SELECT payload FROM event_outbox WHERE payload->>'keyId' = $1", team_key["id"]
    )
    body = orjson.loads(events[0]["payload"])
    assert body["teamId"] == team["teamId"] and "userId" not in body


async def test_a_disabled_owners_key_is_refused_and_its_tokens_too(app, client):
    user = await register(client)
    key = await create(client, user["accessToken"])
    token, _ = await exchanged_claims(app, client, key["key"])
    await set_user(client, user["user"]["id"], disabled=True)
    await verifier_refuses_within(app, token)
    refused = await exchange(client, key["key"])
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_api_key")
    await set_user(client, user["user"]["id"], disabled=False)
    assert (await exchange(client, key["key"])).status_code == 200


async def test_the_token_version_follows_the_owner(app, client):
    user = await register(client)
    key = await create(client, user["accessToken"])
    old, claims = await exchanged_claims(app, client, key["key"])
    assert claims["tv"] == 0
    await set_user(client, user["user"]["id"], role="supervisor")
    await verifier_refuses_within(app, old)
    _, claims = await exchanged_claims(app, client, key["key"])
    assert (claims["tv"], claims["role"]) == (1, "enduser")


async def test_using_a_key_records_when(app, client):
    user = await register(client)
    key = await create(client, user["accessToken"])
    assert key["lastUsedAt"] is None
    await exchanged_claims(app, client, key["key"])
    listed = (await client.get(KEYS, headers=bearer(user["accessToken"]))).json()["keys"]
    assert listed[0]["lastUsedAt"]


async def test_an_expired_key_is_refused_and_no_longer_listed(client, settings):
    user = await register(client)
    key = await create(client, user["accessToken"], expiresInDays=1)
    assert (await exchange(client, key["key"])).json()["expiresIn"] == 300
    await db_fetch(
        settings,
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(key["id"]),
    )
    assert (await exchange(client, key["key"])).status_code == 401
    assert (await client.get(KEYS, headers=bearer(user["accessToken"]))).json()["keys"] == []


async def test_no_more_live_keys_than_the_limit_even_at_once(client, settings):
    user = await register(client)
    token = user["accessToken"]
    limit = settings.max_personal_keys
    answers = await asyncio.gather(
        *(
            client.post(KEYS, json={"name": f"k{i}"}, headers=bearer(token))
            for i in range(limit + 5)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * limit + [409] * 5
    refused = next(a for a in answers if a.status_code == 409).json()
    assert (refused["code"], refused["details"]) == ("key_limit_reached", {"limit": limit})
    listed = (await client.get(KEYS, headers=bearer(token))).json()["keys"]
    assert len(listed) == limit
    await client.delete(f"{KEYS}/{listed[0]['id']}", headers=bearer(token))
    await create(client, token)


async def test_a_budget_is_stored_in_micro_credits_listed_and_signed_into_the_token(
    app, client, settings
):
    user = await register(client)
    key = await create(client, user["accessToken"], maxBudgetCredits="12.5")
    assert key["maxBudgetCredits"] == 12.5
    listed = (await client.get(KEYS, headers=bearer(user["accessToken"]))).json()["keys"]
    assert listed[0]["maxBudgetCredits"] == 12.5
    stored = await db_fetch(
        settings, "SELECT max_budget_micro FROM api_keys WHERE id = $1", uuid.UUID(key["id"])
    )
    assert stored[0]["max_budget_micro"] == 12_500_000
    _, claims = await exchanged_claims(app, client, key["key"])
    assert (claims["keyId"], claims["keyBudgetMicro"]) == (key["id"], 12_500_000)

    whole = await create(client, user["accessToken"], maxBudgetCredits=5)
    assert whole["maxBudgetCredits"] == 5
    smallest = await create(client, user["accessToken"], maxBudgetCredits=0.000001)
    assert smallest["maxBudgetCredits"] == 0.000001
    _, claims = await exchanged_claims(app, client, smallest["key"])
    assert claims["keyBudgetMicro"] == 1
    largest = await create(client, user["accessToken"], maxBudgetCredits="999999999.999999")
    _, claims = await exchanged_claims(app, client, largest["key"])
    assert claims["keyBudgetMicro"] == 999_999_999_999_999

    plain = await create(client, user["accessToken"])
    assert plain["maxBudgetCredits"] is None
    _, claims = await exchanged_claims(app, client, plain["key"])
    assert "keyBudgetMicro" not in claims


@pytest.mark.parametrize(
    "value",
    [0, "0", -1, "-0.5", 1_000_000_000, "1e9", "0.0000001", 0.1234567, True, "ten", "nan", "inf"],
)
async def test_a_budget_that_is_not_a_positive_amount_is_refused(client, value):
    user = await register(client)
    response = await client.post(
        KEYS, json={"name": "k", "maxBudgetCredits": value}, headers=bearer(user["accessToken"])
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "body.maxBudgetCredits"
    assert (await client.get(KEYS, headers=bearer(user["accessToken"]))).json()["keys"] == []


async def test_the_database_refuses_a_budget_out_of_bounds_or_on_a_team_key(client, settings):
    user = await register(client)
    key = await create(client, user["accessToken"])
    _, team_key = await mint(client)
    for key_id, budget in ((key["id"], 0), (key["id"], 10**15), (team_key["id"], 1)):
        with pytest.raises(asyncpg.CheckViolationError):
            await db_fetch(
                settings,
                "UPDATE api_keys SET max_budget_micro = $2 WHERE id = $1",
                uuid.UUID(key_id),
                budget,
            )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "x" * 101}, "body.name"),
        ({"name": "a\x00b"}, "body.name"),
        ({"name": "k", "models": [f"m{i}" for i in range(51)]}, "body.models"),
        ({"name": "k", "models": []}, "body.models"),
        ({"name": "k", "models": [""]}, "body.models.0"),
        ({"name": "k", "requestsPerMinute": 0}, "body.requestsPerMinute"),
        ({"name": "k", "requestsPerMinute": 100_001}, "body.requestsPerMinute"),
        ({"name": "k", "requestsPerMinute": True}, "body.requestsPerMinute"),
        ({"name": "k", "tokensPerMinute": 0}, "body.tokensPerMinute"),
        ({"name": "k", "tokensPerMinute": 100_000_001}, "body.tokensPerMinute"),
        ({"name": "k", "tokensPerMinute": "1000"}, "body.tokensPerMinute"),
        ({"name": "k", "tokensPerMinute": 1000.0}, "body.tokensPerMinute"),
        ({"name": "k", "tokensPerMinute": True}, "body.tokensPerMinute"),
        ({"name": "k", "expiresInDays": 0}, "body.expiresInDays"),
        ({"name": "k", "expiresInDays": 3651}, "body.expiresInDays"),
        ({"name": "k", "expiresInDays": "7"}, "body.expiresInDays"),
        ({"name": "k", "budget": 5}, "body.budget"),
        ({}, "body.name"),
    ],
)
async def test_bounds_are_422_naming_the_field(client, body, field):
    user = await register(client)
    response = await client.post(KEYS, json=body, headers=bearer(user["accessToken"]))
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == field


async def test_the_bounds_that_are_allowed(client):
    user = await register(client)
    key = await create(
        client,
        user["accessToken"],
        name="x" * 100,
        models=[f"m{i}" for i in range(50)],
        requestsPerMinute=100_000,
        expiresInDays=3650,
        tokensPerMinute=100_000_000,
        maxBudgetCredits=None,
    )
    assert len(key["models"]) == 50 and key["requestsPerMinute"] == 100_000
    assert key["tokensPerMinute"] == 100_000_000
    assert (await create(client, user["accessToken"], tokensPerMinute=1))["tokensPerMinute"] == 1


async def test_the_openapi_says_what_is_refused(client):
    schema = (await client.get("/openapi.json")).json()
    request = schema["components"]["schemas"]["PersonalKeyRequest"]["properties"]
    assert "enforced by accounting" in request["maxBudgetCredits"]["description"]
    assert "key_budget_exceeded" in request["maxBudgetCredits"]["description"]
    assert "enforced by chat" in request["tokensPerMinute"]["description"]
    assert request["tokensPerMinute"]["anyOf"][0]["maximum"] == 100_000_000
    exchange_doc = schema["paths"]["/internal/api-keys/exchange"]["post"]["description"]
    assert "never carries supervisor or admin powers" in exchange_doc


async def test_tokens_per_minute_is_stored_listed_and_put_in_the_token(app, client, settings):
    user = await register(client)
    key = await create(client, user["accessToken"], tokensPerMinute=5000)
    assert key["tokensPerMinute"] == 5000
    listed = (await client.get(KEYS, headers=bearer(user["accessToken"]))).json()["keys"]
    assert listed[0]["tokensPerMinute"] == 5000
    stored = await db_fetch(
        settings, "SELECT tokens_per_minute FROM api_keys WHERE id = $1", uuid.UUID(key["id"])
    )
    assert stored[0]["tokens_per_minute"] == 5000
    _, claims = await exchanged_claims(app, client, key["key"])
    assert (claims["keyId"], claims["tokensPerMinute"]) == (key["id"], 5000)

    plain = await create(client, user["accessToken"])
    assert plain["tokensPerMinute"] is None
    _, claims = await exchanged_claims(app, client, plain["key"])
    assert "tokensPerMinute" not in claims


async def test_the_database_refuses_tokens_per_minute_out_of_bounds(client, settings):
    user = await register(client)
    key = await create(client, user["accessToken"])
    with pytest.raises(asyncpg.CheckViolationError):
        await db_fetch(
            settings,
            "UPDATE api_keys SET tokens_per_minute = 0 WHERE id = $1",
            uuid.UUID(key["id"]),
        )
