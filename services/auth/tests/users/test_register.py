import asyncio

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
