import pytest

from ..conftest import bearer, client_for, login, register, unique_username

DEMO = [
    ("admin", "admin@admin", "admin"),
    ("supervisor1", "Supervisor1@", "supervisor"),
    ("supervisor2", "Supervisor2@", "supervisor"),
    ("user1", "User1@123", "enduser"),
    ("user2", "User2@123", "enduser"),
]


@pytest.mark.parametrize(("username", "password", "role"), DEMO)
async def test_demo_users_log_in(client, username, password, role):
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "user"}
    assert body["user"]["username"] == username
    assert body["user"]["role"] == role
    me = await client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.json() == body["user"]


async def test_login_by_email(client):
    response = await login(client, "USER1@example.com", "User1@123")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "user1"


async def test_wrong_password_and_unknown_user_get_the_same_answer(app):
    async with client_for(app, "10.0.0.1") as client:
        wrong = await login(client, "user2", "not-the-password-1")
        unknown = await login(client, unique_username("ghost"), "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "message": "Invalid username or password",
            "code": "invalid_credentials",
        }
    )


async def test_repeated_failures_are_throttled_with_retry_after(app, settings):
    body = None
    async with client_for(app, "10.0.0.2") as client:
        name = unique_username()
        body = await register(client, name)
        statuses = [(await login(client, name, "Wrong-password-1")).status_code for _ in range(20)]
        throttled = await login(client, name, "Str0ng-pass!")
    max_failures = settings.login_max_failures
    assert statuses[:max_failures] == [401] * max_failures
    assert set(statuses[max_failures:]) == {429}
    assert throttled.status_code == 429, "the right password is refused while throttled"
    assert throttled.json()["code"] == "rate_limited"
    assert 1 <= int(throttled.headers["Retry-After"]) <= settings.login_failure_window_seconds
    assert body["user"]["username"] == name


async def test_throttling_is_per_client_address(app, settings):
    name = unique_username()
    async with client_for(app, "10.0.0.3") as attacker:
        await register(attacker, name)
        for _ in range(settings.login_max_failures):
            await login(attacker, name, "Wrong-password-1")
        assert (await login(attacker, name, "Str0ng-pass!")).status_code == 429
    async with client_for(app, "10.0.0.4") as owner:
        assert (await login(owner, name, "Str0ng-pass!")).status_code == 200


async def test_a_success_clears_the_failure_count(app, settings):
    name = unique_username()
    async with client_for(app, "10.0.0.5") as client:
        await register(client, name)
        for _ in range(3):
            for _ in range(settings.login_max_failures - 1):
                assert (await login(client, name, "Wrong-password-1")).status_code == 401
            assert (await login(client, name, "Str0ng-pass!")).status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"username": "user1"}, {"username": "", "password": "x"}, {"username": 5}]
)
async def test_malformed_login_is_422(client, body):
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
