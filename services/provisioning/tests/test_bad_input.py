"""Bad input is a clear 4xx, never a 500: text PostgreSQL cannot store (a NUL, a lone
surrogate) is 422 in bodies and filters, a dry run never calls it valid, JSON of the wrong type
is 422 (``"yes"`` is not a boolean, ``0.5`` not a time, ``60.0`` not an integer), and a body
over MAX_BODY_BYTES is 413."""

import json
import uuid

import pytest

from .conftest import HAIKU, login, new_org, new_user, unique_slug

BAD_TEXT = ["a\x00b", "\x00", "a\ud800b"]


def assert_422(response, field: str | None = None) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    if field is not None:
        assert response.json()["details"][0]["field"] == field, response.text


async def send(api, url: str, body: dict, headers: dict, method: str = "POST"):
    """``body`` as JSON with lone surrogates escaped (``\\ud800``), as a client sends them:
    httpx's own JSON encoding cannot."""
    return await api.request(
        method,
        url,
        content=json.dumps(body),
        headers={**headers, "content-type": "application/json"},
    )


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize("dry_run", [False, True])
async def test_an_organization_named_with_unstorable_text_is_422(api, auth, bad, dry_run):
    user = await new_user(auth)
    body = {"slug": unique_slug(), "name": f"Acme {bad}", "dryRun": dry_run}
    response = await send(api, "/api/organizations", body, user["headers"])
    assert_422(response, "body.name")  # a dry run no longer says valid: true
    listed = await api.get("/api/organizations", headers=user["headers"])
    assert listed.json()["organizations"] == []


@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_a_slug_with_unstorable_text_is_422(api, auth, bad):
    user = await new_user(auth)
    body = {"slug": f"acme-{bad}", "name": "Acme", "dryRun": True}
    assert_422(await send(api, "/api/organizations", body, user["headers"]), "body.slug")


async def test_a_dry_run_flag_is_a_boolean(api, auth):
    user = await new_user(auth)
    for flag in ("yes", 1, "true"):
        response = await api.post(
            "/api/organizations",
            json={"slug": unique_slug(), "name": "Acme", "dryRun": flag},
            headers=user["headers"],
        )
        assert_422(response, "body.dryRun")
    listed = await api.get("/api/organizations", headers=user["headers"])
    assert listed.json()["organizations"] == []


async def test_a_rename_to_unstorable_text_is_422_and_changes_nothing(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    url = f"/api/organizations/{org['id']}"
    assert_422(await send(api, url, {"name": "B\x00"}, owner["headers"], "PATCH"), "body.name")
    assert (await api.get(url, headers=owner["headers"])).json()["name"] == org["name"]


@pytest.mark.parametrize(
    "query",
    [
        "action=%00",
        "action=team_key.%00*",
        "actor=a%00b",
        "targetType=%00",
        "targetId=x%00",
    ],
)
async def test_an_audit_filter_with_a_nul_is_422(api, auth, query):
    response = await api.get(f"/api/audit-logs?{query}", headers=await login(auth, "admin"))
    assert_422(response, f"query.{query.split('=')[0]}")


def plan(**overrides) -> dict:
    return {
        "name": f"plan-{uuid.uuid4().hex[:8]}",
        "monthlyCredits": 500,
        "requestsPerMinute": 60,
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"effectiveFrom": 0.5}, "body.effectiveFrom"),
        ({"effectiveFrom": 4102444800}, "body.effectiveFrom"),
        ({"effectiveFrom": "4102444800"}, "body.effectiveFrom"),
        ({"effectiveFrom": "2100-01-01"}, "body.effectiveFrom"),
        ({"requestsPerMinute": 60.0}, "body.requestsPerMinute"),
        ({"requestsPerMinute": "60"}, "body.requestsPerMinute"),
        ({"requestsPerMinute": True}, "body.requestsPerMinute"),
        ({"isDefault": "yes"}, "body.isDefault"),
        ({"isDefault": 0}, "body.isDefault"),
        ({"name": "starter\x00"}, "body.name"),
        ({"name": "a\ud800b"}, "body.name"),
    ],
)
async def test_a_plan_of_the_wrong_json_type_is_422(api, auth, overrides, field):
    admin = await login(auth, "admin")
    body = plan(**overrides)
    assert_422(await send(api, "/api/plans", body, admin), field)
    plans = (await api.get("/api/plans", headers=admin)).json()["plans"]
    assert body["name"] not in [p["name"] for p in plans]


async def test_a_plan_from_an_rfc3339_time_is_accepted(api, auth):
    admin = await login(auth, "admin")
    response = await api.post(
        "/api/plans", json=plan(effectiveFrom="2100-01-01T00:00:00Z"), headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["scheduled"][0]["effectiveFrom"].startswith("2100-01-01T00:00:00")


async def test_a_plan_version_of_the_wrong_json_type_is_422(api, auth):
    admin = await login(auth, "admin")
    created = await api.post("/api/plans", json=plan(), headers=admin)
    url = f"/api/plans/{created.json()['id']}/versions"
    for body, field in [
        ({"monthlyCredits": 1, "requestsPerMinute": 1, "effectiveFrom": 0.5}, "effectiveFrom"),
        ({"monthlyCredits": 1, "requestsPerMinute": 1.0}, "requestsPerMinute"),
        ({"monthlyCredits": 1, "requestsPerMinute": 1, "name": "\x00"}, "name"),
    ]:
        assert_422(await api.post(url, json=body, headers=admin), f"body.{field}")
    history = (await api.get(f"/api/plans/{created.json()['id']}/history", headers=admin)).json()
    assert len(history["versions"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "g-ok", "models": [HAIKU], "description": "x\x00"}, "body.description"),
        ({"name": "g-ok", "models": [f"{HAIKU}\x00"]}, "body.models.0"),
        ({"name": "g\x00", "models": [HAIKU]}, "body.name"),
    ],
)
async def test_a_model_group_with_unstorable_text_is_422(api, auth, body, field):
    assert_422(
        await api.post("/api/model-groups", json=body, headers=await login(auth, "admin")), field
    )


async def test_team_and_key_bodies_of_the_wrong_type_are_422(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    team_id, key_id = uuid.uuid4(), uuid.uuid4()
    cases = [
        (
            "/api/teams",
            {"organizationId": org["id"], "name": "t\x00", "modelGroups": ["g"]},
            "body.name",
        ),
        (
            "/api/teams",
            {"organizationId": org["id"], "name": "t", "modelGroups": ["g\x00"]},
            "body.modelGroups.0",
        ),
        (f"/api/teams/{team_id}/keys", {"name": "ci\x00"}, "body.name"),
        (f"/api/teams/{team_id}/keys", {"name": "ci", "expiresInDays": 30.0}, "body.expiresInDays"),
        (f"/api/teams/{team_id}/keys", {"name": "ci", "expiresInDays": "30"}, "body.expiresInDays"),
        (
            f"/api/teams/{team_id}/keys/{key_id}/rotate",
            {"gracePeriodSeconds": True},
            "body.gracePeriodSeconds",
        ),
        (
            f"/api/teams/{team_id}/keys/{key_id}/rotate",
            {"gracePeriodSeconds": 60.0},
            "body.gracePeriodSeconds",
        ),
    ]
    for url, body, field in cases:
        assert_422(await api.post(url, json=body, headers=owner["headers"]), field)


async def test_a_body_over_the_limit_is_413(api, auth):
    user = await new_user(auth)
    response = await api.post(
        "/api/organizations",
        content=b'{"slug": "' + b"a" * (1024 * 1024) + b'", "name": "x"}',
        headers={**user["headers"], "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.headers["x-request-id"]


async def test_the_openapi_lists_413_and_the_422_envelope(api):
    schema = (await api.get("/openapi.json")).json()
    create = schema["paths"]["/api/organizations"]["post"]["responses"]
    assert {"413", "422"} <= set(create)
    audit = schema["paths"]["/api/audit-logs"]["get"]["responses"]
    assert audit["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
