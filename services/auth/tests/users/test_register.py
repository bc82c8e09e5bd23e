import asyncio
import uuid

import pytest

from ..conftest import (
    bearer,
    collect_events,
    register,
    registered_events_queue,
    unique_username,
)


async def test_register_returns_user_and_tokens(client):
    name = unique_username()
    body = await register(client, name)
    assert body["user"]["username"] == name
    assert body["user"]["role"] == "enduser"
    assert body["user"]["email"] == f"{name}@example.com"
    me = await client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.json()["id"] == body["user"]["id"]


async def test_weak_password_is_400(client):
    response = await client.post(
        "/api/auth/register",
        json={"username": unique_username(), "email": "w@example.com", "password": "weakweak"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"


async def test_a_password_under_twelve_characters_is_400(client):
    name = unique_username()
    response = await client.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "Tr0ub4dor&3"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Password must be at least 12 characters",
        "code": "weak_password",
        "details": {"minLength": 12},
    }


@pytest.mark.parametrize("password", ["Password123!", "qwertyuiop12", "iloveyou2024"])
async def test_a_guessable_password_is_400_with_the_estimators_feedback(client, password):
    name = unique_username()
    response = await client.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": password},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "weak_password"
    assert body["details"]["score"] < body["details"]["minScore"] == 3
    assert body["details"]["warning"] == "This is similar to a commonly used password."
    assert body["details"]["suggestions"]
    assert password not in response.text


async def test_a_password_made_of_the_username_is_400(client):
    name = f"marigold{uuid.uuid4().hex[:4]}"
    response = await client.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": f"{name}2024"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"


async def test_a_strong_passphrase_registers(client):
    body = await register(client, password="plum quartz violin forty")
    assert body["user"]["role"] == "enduser"


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"])
async def test_a_nul_or_lone_surrogate_in_any_field_is_422_not_500(client, field, bad):
    name = unique_username()
    fields = {"username": name, "email": f"{name}@example.com", "password": "Str0ng-pass!"}
    fields[field] = fields[field][:4] + bad + fields[field][4:]
    # Raw JSON: an encoder would refuse the lone surrogate before it left the client.
    raw = "{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}"
    response = await client.post(
        "/api/auth/register", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["details"][0]["field"] == f"body.{field}"


@pytest.mark.parametrize("wrong", [5, True, None, ["Str0ng-pass!"]])
async def test_a_password_that_is_not_a_string_is_422(client, wrong):
    name = unique_username()
    response = await client.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": wrong},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_taken_username_is_409_whatever_the_case(client):
    name = unique_username("Case")
    await register(client, name)
    response = await client.post(
        "/api/auth/register",
        json={
            "username": name.upper(),
            "email": f"other{name}@example.com",
            "password": "Str0ng-pass!",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"


async def test_taken_email_is_409(client):
    first = await register(client)
    response = await client.post(
        "/api/auth/register",
        json={
            "username": unique_username(),
            "email": first["user"]["email"].upper(),
            "password": "Str0ng-pass!",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_invalid_email_is_422_and_does_not_echo_the_password(client):
    response = await client.post(
        "/api/auth/register",
        json={"username": unique_username(), "email": "not-an-email", "password": "Sup3r-secret!"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "Sup3r-secret!" not in response.text


async def test_concurrent_registrations_of_one_name_create_one_user(client):
    name = unique_username()
    payload = {"username": name, "email": f"{name}@example.com", "password": "Str0ng-pass!"}
    responses = await asyncio.gather(
        *(client.post("/api/auth/register", json=payload) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_registration_is_announced_once_on_the_bus(client, rabbitmq_url, bus_namespace):
    async with registered_events_queue(rabbitmq_url, bus_namespace, "registered") as queue:
        body = await register(client)
        events = await collect_events(queue, want_user=body["user"]["id"], settle_seconds=1.0)
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "user.registered"
    assert event["username"] == body["user"]["username"]
    assert event["role"] == "enduser"
    assert {"eventId", "occurredAt", "version"} <= event.keys()
