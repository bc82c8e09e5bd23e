"""Bad input is a clear 4xx, never a 500: text PostgreSQL cannot store (a NUL, a lone
surrogate) is 422 wherever it is sent, JSON of the wrong type is 422 (``false`` is not a token
count, ``"yes"`` not a boolean, ``0.5`` not a time, ``2.0`` not an integer), ``metadata`` is
bounded, and a body over MAX_BODY_BYTES is 413. Nothing is written by a refused request."""

import json

import pytest

from .conftest import allocate, balance, bearer, funded_user, new_user, on_behalf, token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NUL_AND_SURROGATE = ["a\x00b", "\x00", "a\ud800b"]


def assert_422(response, field: str | None = None) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    if field is not None:
        assert response.json()["details"][0]["field"] == field, response.text


@pytest.mark.parametrize("route", ["/api/credits/balance", "/api/usage/stats"])
@pytest.mark.parametrize("user_id", ["a%00b", "%00", "user1%00"])
async def test_a_nul_in_a_looked_up_user_is_422(client, auth, route, user_id):
    response = await client.get(
        f"{route}/{user_id}", headers=bearer(await token(auth, "supervisor1"))
    )
    assert_422(response, "path.user_id")


@pytest.mark.parametrize("field", ["targetUserId", "notes"])
@pytest.mark.parametrize("bad", NUL_AND_SURROGATE)
async def test_an_allocation_with_unstorable_text_is_422_and_allocates_nothing(
    client, auth, field, bad
):
    user = await new_user(auth)
    body = {"targetUserId": user["username"], "credits": 5, "notes": "fine", field: bad}
    response = await client.post(
        "/api/credits/allocate",
        content=json.dumps(body),  # \ud800 escaped, as a client sends it
        headers={**bearer(await token(auth, "admin")), "content-type": "application/json"},
    )
    assert_422(response, f"body.{field}")
    assert (await balance(client, user))["activeAllocations"] == []


@pytest.mark.parametrize(
    "extra",
    [
        {"expiresAt": 0.5},
        {"expiresAt": 1893456000},
        {"expiresAt": "1893456000"},
        {"expiresAt": "2030-01-01"},
        {"expiresAt": "2030-01-01T00:00:00"},
        {"expiryDays": 30.0},
        {"expiryDays": "30"},
        {"expiryDays": True},
    ],
)
async def test_an_allocation_of_the_wrong_json_type_is_422(client, auth, extra):
    user = await new_user(auth)
    response = await allocate(client, await token(auth, "admin"), user["username"], 5, **extra)
    field = next(iter(extra))
    assert_422(response, f"body.{field}")


async def test_an_rfc3339_expiry_is_accepted(client, auth):
    user = await new_user(auth)
    response = await allocate(
        client, await token(auth, "admin"), user["username"], 5, expiresAt="2099-01-01T00:00:00Z"
    )
    assert response.status_code == 201, response.text
    assert response.json()["expiresAt"].startswith("2099-01-01T00:00:00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"modelId": HAIKU, "tokens": False}, "body.tokens"),
        ({"modelId": HAIKU, "tokens": 1000.0}, "body.tokens"),
        ({"modelId": HAIKU, "tokens": "1000"}, "body.tokens"),
        ({"modelId": HAIKU, "inputTokens": True}, "body.inputTokens"),
        ({"modelId": "a\x00b", "tokens": 10}, "body.modelId"),
    ],
)
async def test_calculate_refuses_the_wrong_json_type(client, auth, body, field):
    response = await client.post(
        "/api/credits/calculate", json=body, headers=bearer(await token(auth, "user1"))
    )
    assert_422(response, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"modelId": HAIKU, "estimatedTokens": True}, "body.estimatedTokens"),
        ({"modelId": HAIKU, "estimatedTokens": 100.0}, "body.estimatedTokens"),
        ({"modelId": "\x00", "estimatedTokens": 100}, "body.modelId"),
    ],
)
async def test_check_refuses_the_wrong_json_type(client, auth, body, field):
    response = await client.post(
        "/api/credits/check", json=body, headers=bearer(await token(auth, "user1"))
    )
    assert_422(response, field)


async def test_check_by_query_refuses_a_nul_model(client, auth):
    response = await client.get(
        "/api/credits/check?modelId=%00&estimatedTokens=10",
        headers=bearer(await token(auth, "user1")),
    )
    assert_422(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sessionId": "s", "modelId": HAIKU, "estimatedTokens": True}, "body.estimatedTokens"),
        ({"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 100.0}, "body.estimatedTokens"),
        ({"sessionId": "s\x00", "modelId": HAIKU, "estimatedTokens": 100}, "body.sessionId"),
        ({"sessionId": "s", "modelId": HAIKU + "\x00", "estimatedTokens": 100}, "body.modelId"),
    ],
)
async def test_a_hold_of_the_wrong_json_type_is_422_and_holds_nothing(client, auth, body, field):
    user = await funded_user(client, auth, 10)
    response = await client.post(
        "/api/streaming-sessions/initialize", json=body, headers=on_behalf(user)
    )
    assert_422(response, field)
    assert (await balance(client, user))["reservedCredits"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"actualTokens": False}, "body.actualTokens"),
        ({"outputTokens": 10.0}, "body.outputTokens"),
        ({"outputTokens": 10, "success": "yes"}, "body.success"),
        ({"outputTokens": 10, "success": 0}, "body.success"),
        ({"sessionId": "s\x00", "outputTokens": 10}, "body.sessionId"),
    ],
)
@pytest.mark.parametrize("path", ["finalize", "abort"])
async def test_a_settlement_of_the_wrong_json_type_is_422_and_the_hold_stands(
    client, auth, path, extra, field
):
    user = await funded_user(client, auth, 10)
    held = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 1000},
        headers=on_behalf(user),
    )
    reservation = held.json()
    response = await client.post(
        f"/api/streaming-sessions/{path}",
        json={"streamingSessionId": reservation["streamingSessionId"], **extra},
        headers=on_behalf(user),
    )
    assert_422(response, field)
    assert (await balance(client, user))["reservedCredits"] == reservation["allocatedCredits"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outputTokens": False}, "body.outputTokens"),
        ({"inputTokens": 5.0}, "body.inputTokens"),
        ({"extendSeconds": 60.0}, "body.extendSeconds"),
        ({"extendSeconds": "60"}, "body.extendSeconds"),
    ],
)
async def test_an_extension_of_the_wrong_json_type_is_422(client, auth, body, field):
    user = await funded_user(client, auth, 10)
    held = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 1000},
        headers=on_behalf(user),
    )
    response = await client.post(
        f"/api/streaming-sessions/{held.json()['streamingSessionId']}/extend",
        json=body,
        headers=on_behalf(user),
    )
    assert_422(response, field)


def usage(**extra) -> dict:
    return {"service": "tools", "operation": "search", "credits": 1, **extra}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (usage(service="to\x00ols"), "body.service"),
        (usage(operation="\x00"), "body.operation"),
        (
            {"service": "t", "operation": "o", "modelId": HAIKU, "tokens": False},
            "body.tokens",
        ),
        (
            {"service": "t", "operation": "o", "modelId": HAIKU, "outputTokens": 9.0},
            "body.outputTokens",
        ),
        (usage(metadata={f"k{i}": i for i in range(17)}), "body.metadata"),
        (usage(metadata={"blob": "x" * 5000}), "body.metadata"),
        (usage(metadata={"a": {"b": {"c": {"d": {"e": 1}}}}}), "body.metadata"),
        (usage(metadata={"list": [[[[["deep"]]]]]}), "body.metadata"),
        (usage(metadata={"k" * 300: 1}), "body.metadata"),
        (usage(metadata=["not", "an", "object"]), "body.metadata"),
    ],
)
async def test_recorded_usage_of_the_wrong_shape_is_422_and_charges_nothing(
    client, auth, body, field
):
    user = await funded_user(client, auth, 10)
    response = await client.post("/api/usage/record", json=body, headers=on_behalf(user))
    assert_422(response, field)
    assert (await balance(client, user))["totalCredits"] == 10


async def test_bounded_metadata_is_accepted(client, auth):
    user = await funded_user(client, auth, 10)
    metadata = {f"k{i}": {"n": i, "tags": ["a", "b"], "ok": True} for i in range(16)}
    response = await client.post(
        "/api/usage/record", json=usage(metadata=metadata), headers=on_behalf(user)
    )
    assert response.status_code == 201, response.text
    assert (await balance(client, user))["totalCredits"] == 9


async def test_a_body_over_the_limit_is_413(client, auth):
    response = await client.post(
        "/api/credits/allocate",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={**bearer(await token(auth, "admin")), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_the_openapi_lists_413_and_the_422_envelope(client):
    schema = (await client.get("/openapi.json")).json()
    allocate_op = schema["paths"]["/api/credits/allocate"]["post"]["responses"]
    assert {"413", "422"} <= set(allocate_op)
    balance_op = schema["paths"]["/api/credits/balance/{user_id}"]["get"]["responses"]
    assert balance_op["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
