import asyncio
import uuid

import orjson
import pytest

from ..conftest import admin_token, bearer, login, register


async def test_admin_lists_users_with_pagination(client):
    token = await admin_token(client)
    response = await client.get("/api/auth/users?page=1&limit=2", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert len(body["users"]) == 2
    pagination = body["pagination"]
    assert pagination["page"] == 1 and pagination["limit"] == 2
    assert pagination["total"] >= 5
    assert pagination["pages"] == -(-pagination["total"] // 2)
    assert "passwordHash" not in body["users"][0] and "password_hash" not in body["users"][0]


async def test_admin_filters_by_role(client):
    token = await admin_token(client)
    body = (await client.get("/api/auth/users?role=supervisor", headers=bearer(token))).json()
    assert {u["username"] for u in body["users"]} >= {"supervisor1", "supervisor2"}
    assert {u["role"] for u in body["users"]} == {"supervisor"}


async def test_enduser_and_supervisor_get_403_on_admin_routes(client):
    for username, password in (("user1", "User1@123"), ("supervisor1", "Supervisor1@")):
        token = (await login(client, username, password)).json()["accessToken"]
        listing = await client.get("/api/auth/users", headers=bearer(token))
        change = await client.patch(
            f"/api/auth/users/{uuid.uuid4()}", json={"role": "admin"}, headers=bearer(token)
        )
        assert listing.status_code == change.status_code == 403
        assert listing.json()["code"] == "forbidden"


async def test_admin_changes_a_role_and_the_next_token_carries_it(client):
    user = await register(client)
    token = await admin_token(client)
    response = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"role": "supervisor"}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert response.json()["role"] == "supervisor"
    relogin = await login(client, user["user"]["username"], "Str0ng-pass!")
    assert relogin.json()["user"]["role"] == "supervisor"


async def test_disabling_a_user_ends_their_sessions(client):
    user = await register(client)
    token = await admin_token(client)
    response = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"disabled": True}, headers=bearer(token)
    )
    assert response.json()["disabled"] is True
    assert (await login(client, user["user"]["username"], "Str0ng-pass!")).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert refreshed.status_code == 401
    me = await client.get("/api/auth/me", headers=bearer(user["accessToken"]))
    assert me.status_code == 401


async def test_unknown_user_is_404_and_malformed_id_is_422(client):
    token = await admin_token(client)
    unknown = await client.patch(
        f"/api/auth/users/{uuid.uuid4()}", json={"role": "admin"}, headers=bearer(token)
    )
    malformed = await client.patch(
        "/api/auth/users/not-a-uuid", json={"role": "admin"}, headers=bearer(token)
    )
    bad_role = await client.patch(
        f"/api/auth/users/{uuid.uuid4()}", json={"role": "emperor"}, headers=bearer(token)
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert malformed.status_code == 422
    assert bad_role.status_code == 422


async def test_an_admin_cannot_demote_themselves(client):
    response = await login(client, "admin", "admin@admin")
    me = response.json()["user"]
    token = response.json()["accessToken"]
    demote = await client.patch(
        f"/api/auth/users/{me['id']}", json={"role": "enduser"}, headers=bearer(token)
    )
    assert demote.status_code == 409


async def test_admin_finds_a_user_by_id(client):
    user = await register(client)
    token = await admin_token(client)
    response = await client.get(
        "/api/auth/users", params={"q": user["user"]["id"]}, headers=bearer(token)
    )
    assert [u["username"] for u in response.json()["users"]] == [user["user"]["username"]]


@pytest.mark.parametrize(
    "body",
    [
        {"disabled": "yes"},
        {"disabled": "true"},
        {"disabled": 1},
        {"disabled": 0},
        {"role": ["admin"]},
        {"role": 1},
        {"disabld": True},  # a misspelt field is an error, not a silent no-op
    ],
)
async def test_a_change_of_the_wrong_json_type_is_422_and_changes_nothing(client, body):
    user = await register(client)
    token = await admin_token(client)
    response = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json=body, headers=bearer(token)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    me = await client.get("/api/auth/me", headers=bearer(user["accessToken"]))
    assert me.status_code == 200, "the user was not disabled"


@pytest.mark.parametrize("q", ["\x00", "a\x00b"])
async def test_a_search_no_name_can_hold_is_422_not_500(client, q):
    token = await admin_token(client)
    response = await client.get("/api/auth/users", params={"q": q}, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_a_percent_encoded_nul_in_the_search_is_422(client):
    token = await admin_token(client)
    response = await client.get("/api/auth/users?q=%00", headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_search_for_bytes_that_are_not_utf8_is_an_empty_page(client):
    token = await admin_token(client)
    response = await client.get("/api/auth/users?q=%ED%A0%80%FF", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["users"] == []


async def _user_updated_events(app, user_id: str) -> list[dict]:
    async with app.state.users.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload::text AS payload FROM event_outbox "
            "WHERE routing_key = 'user.updated' AND payload->>'userId' = $1 ORDER BY id",
            user_id,
        )
    return [orjson.loads(row["payload"]) for row in rows]


async def test_each_role_change_and_disable_is_in_the_outbox_once(app, client):
    user = await register(client)
    user_id = user["user"]["id"]
    token = await admin_token(client)

    async def patch(body: dict) -> None:
        response = await client.patch(
            f"/api/auth/users/{user_id}", json=body, headers=bearer(token)
        )
        assert response.status_code == 200, response.text

    await patch({"role": "supervisor"})
    await patch({"role": "supervisor"})  # no change, no event
    await patch({"disabled": True})
    await patch({"disabled": True, "role": "supervisor"})  # no change either
    await patch({"disabled": False, "role": "enduser"})  # one change of two fields, one event
    await patch({})

    events = await _user_updated_events(app, user_id)
    bodies = [{k: e[k] for k in ("userId", "role", "disabled")} for e in events]
    assert bodies == [
        {"userId": user_id, "role": "supervisor", "disabled": False},
        {"userId": user_id, "role": "supervisor", "disabled": True},
        {"userId": user_id, "role": "enduser", "disabled": False},
    ]
    # Each change makes the tokens issued before it too old everywhere.
    assert [e["tokenVersion"] for e in events] == [1, 2, 3]
    for event in events:
        assert event["type"] == "user.updated"
        assert event["version"] == 1
        assert set(event) == {
            "eventId",
            "type",
            "occurredAt",
            "version",
            "userId",
            "role",
            "disabled",
            "tokenVersion",
        }
    assert len({e["eventId"] for e in events}) == 3


async def test_a_refused_change_writes_no_event(app, client):
    response = await login(client, "admin", "admin@admin")
    me, token = response.json()["user"], response.json()["accessToken"]
    assert (
        await client.patch(
            f"/api/auth/users/{me['id']}", json={"disabled": True}, headers=bearer(token)
        )
    ).status_code == 409
    missing = str(uuid.uuid4())
    assert (
        await client.patch(
            f"/api/auth/users/{missing}", json={"role": "admin"}, headers=bearer(token)
        )
    ).status_code == 404
    assert await _user_updated_events(app, me["id"]) == []
    assert await _user_updated_events(app, missing) == []


async def test_concurrent_disables_write_one_event(app, client):
    user = await register(client)
    user_id = user["user"]["id"]
    token = await admin_token(client)
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/api/auth/users/{user_id}", json={"disabled": True}, headers=bearer(token)
            )
            for _ in range(5)
        )
    )
    assert {r.status_code for r in responses} == {200}
    events = await _user_updated_events(app, user_id)
    assert [(e["role"], e["disabled"]) for e in events] == [("enduser", True)]
