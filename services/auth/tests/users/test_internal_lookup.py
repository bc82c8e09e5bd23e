import pytest

from ..conftest import login, service_headers

INTERNAL = service_headers("accounting")


@pytest.mark.parametrize("login", ["user1", "USER1", "user1@example.com"])
async def test_a_service_finds_a_user_by_username_or_email(client, login):
    response = await client.get(f"/internal/users/{login}", headers=INTERNAL)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "user1"
    assert response.json()["email"] == "user1@example.com"


async def test_a_service_finds_a_user_by_id(client):
    found = (await client.get("/internal/users/user2", headers=INTERNAL)).json()
    by_id = await client.get(f"/internal/users/{found['id']}", headers=INTERNAL)
    assert by_id.json() == found


async def test_an_unknown_user_is_404(client):
    response = await client.get("/internal/users/nobody-here", headers=INTERNAL)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_the_lookup_needs_a_service_with_users_read(client):
    assert (await client.get("/internal/users/user1")).status_code == 401
    old_way = await client.get("/internal/users/user1", headers={"X-Internal-Token": "nope"})
    assert old_way.status_code == 401
    user = (await login(client, "user1", "User1@123")).json()["accessToken"]
    as_user = await client.get("/internal/users/user2", headers={"Authorization": f"Bearer {user}"})
    assert (as_user.status_code, as_user.json()["code"]) == (403, "service_only")
    chat = await client.get("/internal/users/user2", headers=service_headers("chat"))
    assert (chat.status_code, chat.json()["code"]) == (403, "insufficient_scope")


async def test_a_login_with_a_slash_is_one_segment(client):
    response = await client.get("/internal/users/a%2F..%2Fuser1", headers=INTERNAL)
    assert response.status_code == 404
