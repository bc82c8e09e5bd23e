import pytest

INTERNAL = {"X-Internal-Token": "dev-internal-token"}


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


async def test_the_lookup_needs_the_internal_token(client):
    assert (await client.get("/internal/users/user1")).status_code == 401
    wrong = await client.get("/internal/users/user1", headers={"X-Internal-Token": "nope"})
    assert wrong.status_code == 403
