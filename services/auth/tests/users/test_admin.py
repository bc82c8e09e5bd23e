import uuid

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
