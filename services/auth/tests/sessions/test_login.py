import asyncio
import random

import pytest

from ..conftest import bearer, client_for, login, register, unique_username


def fresh_ip() -> str:
    """An address no other test (nor an earlier run, within the window) has failed from."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


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


@pytest.mark.parametrize("who", ["registered", "unknown"])
async def test_fifty_parallel_wrong_guesses_get_at_most_the_limit_of_401s(app, settings, who):
    async with client_for(app, fresh_ip()) as client:
        name = unique_username()
        if who == "registered":
            await register(client, name)
        responses = await asyncio.gather(
            *(login(client, name, f"Wrong-password-{i}") for i in range(50))
        )
        after = await login(client, name, "Str0ng-pass!")
    statuses = [r.status_code for r in responses]
    limit = settings.login_max_failures
    # Each attempt takes its slot before its hash is checked, so no more than the limit can be
    # judged, however many are in flight; and each of those is a failure that keeps its slot.
    assert statuses.count(401) == limit, statuses
    assert statuses.count(429) == 50 - limit, statuses
    for response in responses:
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            assert (
                1 <= int(response.headers["Retry-After"]) <= settings.login_failure_window_seconds
            )
    assert after.status_code == 429, "the window is still closed for the right password too"


async def test_parallel_logins_with_the_right_password_all_succeed(app, settings):
    async with client_for(app, fresh_ip()) as client:
        name = unique_username()
        await register(client, name)
        responses = await asyncio.gather(
            *(login(client, name, "Str0ng-pass!") for _ in range(settings.login_max_failures))
        )
        # Their slots were given back: the full allowance of failures is still there.
        wrong = [
            await login(client, name, "Wrong-password-1")
            for _ in range(settings.login_max_failures)
        ]
    assert {r.status_code for r in responses} == {200}
    assert {r.status_code for r in wrong} == {401}


@pytest.mark.parametrize(
    "username", [r"a\u0000b", r"\u0000", r"user1\u0000", r"user1@example.com\u0000"]
)
async def test_a_login_no_user_can_have_is_the_usual_401(app, username):
    async with client_for(app, fresh_ip()) as client:
        response = await client.post(
            "/api/auth/login",
            content=f'{{"username":"{username}","password":"User1@123"}}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 401, response.text
    assert response.json() == {
        "message": "Invalid username or password",
        "code": "invalid_credentials",
    }


@pytest.mark.parametrize("password", [r"User1@123\u0000", r"\u0000"])
async def test_a_password_with_a_nul_is_the_usual_401(app, password):
    async with client_for(app, fresh_ip()) as client:
        response = await client.post(
            "/api/auth/login",
            content=f'{{"username":"user1","password":"{password}"}}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_credentials"


async def test_logins_no_user_can_have_are_throttled_like_any_other(app, settings):
    async with client_for(app, fresh_ip()) as client:
        statuses = [
            (await login(client, "ghost\x00name", "whatever")).status_code
            for _ in range(settings.login_max_failures + 2)
        ]
    limit = settings.login_max_failures
    assert statuses == [401] * limit + [429, 429]


@pytest.mark.parametrize(
    "body",
    [
        {"username": True, "password": "User1@123"},
        {"username": "user1", "password": 123456789},
        {"username": ["user1"], "password": "User1@123"},
        {"username": "user1", "password": None},
    ],
)
async def test_login_fields_of_the_wrong_json_type_are_422(client, body):
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("token", [r"a\u0000b", r"\u00e9t\u00e9"])
async def test_a_refresh_token_no_one_issued_is_401(client, token):
    response = await client.post(
        "/api/auth/refresh",
        content=f'{{"refreshToken":"{token}"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", r'{"username":"a\ud800b","password":"User1@123"}'),
        ("/api/auth/login", r'{"username":"user1","password":"a\ud800b"}'),
        ("/api/auth/refresh", r'{"refreshToken":"a\ud800b"}'),
    ],
)
async def test_a_lone_surrogate_is_not_text_and_gets_422(app, path, body):
    async with client_for(app, fresh_ip()) as client:
        response = await client.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_an_attempt_that_fails_on_the_way_gives_its_slot_back(app, settings, monkeypatch):
    async def broken(*_):
        raise RuntimeError("the hash could not be checked")

    async with client_for(app, fresh_ip()) as client:
        name = unique_username()
        await register(client, name)
        with monkeypatch.context() as patched:
            patched.setattr(app.state.sessions.hasher, "verify", broken)
            errors = [
                (await login(client, name, "Str0ng-pass!")).status_code
                for _ in range(settings.login_max_failures + 1)
            ]
        after = await login(client, name, "Str0ng-pass!")
    assert set(errors) == {500}, "no attempt was judged, so none was counted"
    assert after.status_code == 200
