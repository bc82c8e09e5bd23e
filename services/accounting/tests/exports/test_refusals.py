"""Who may export whose usage: anyone their own, supervisors and admins anyone's; naming
another user is 403 for everyone else (an organization's refusals are test_organizations'),
and bad parameters are 422 with a code that says what is wrong."""

import uuid

import pytest

from ..conftest import bearer, funded_user, token
from ..key_budgets.keys import new_key
from .usage import answer, export, exported_rows


async def spending_user(client, auth) -> dict:
    user = await funded_user(client, auth, 20)
    await answer(client, user, output_tokens=800)  # 1 credit
    return user


async def test_no_token_is_401(client):
    response = await client.get("/api/usage/export")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_an_enduser_cannot_export_another_user(client, auth):
    victim = await spending_user(client, auth)
    other = await funded_user(client, auth, 1)
    for ref in (victim["id"], victim["username"], "user2", "no-such-user"):
        response = await export(client, other["token"], userId=ref)
        assert response.status_code == 403, (ref, response.text)
        assert response.json()["code"] == "forbidden"
        assert victim["id"] not in response.text


async def test_an_enduser_may_name_themselves(client, auth):
    user = await spending_user(client, auth)
    for ref in (user["id"], user["username"], user["username"].upper()):
        (row,) = await exported_rows(client, user["token"], userId=ref)
        assert (row["userId"], row["credits"]) == (user["id"], 1)


async def test_an_admins_personal_key_exports_only_its_owner(client, auth):
    victim = await spending_user(client, auth)
    admin = {"token": await token(auth, "admin")}
    key = await new_key(auth, admin, name="export")  # its token's role is enduser
    refused = await export(client, key["token"], userId=victim["username"])
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("role_user", ["supervisor1", "admin"])
async def test_supervisors_and_admins_export_any_user_by_id_or_username(client, auth, role_user):
    user = await spending_user(client, auth)
    watcher = await token(auth, role_user)
    for ref in (user["id"], user["username"]):
        (row,) = await exported_rows(client, watcher, userId=ref)
        assert (row["userId"], row["requests"], row["credits"]) == (user["id"], 1, 1)
    unknown = await export(client, watcher, userId=f"nobody-{uuid.uuid4().hex[:8]}")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("group_by", "unknown"),
    [("day,week", ["week"]), ("Day", ["Day"]), ("day,,model", [""]), ("team;key", ["team;key"])],
)
async def test_an_unknown_group_by_is_422_naming_it(client, auth, group_by, unknown):
    user = await funded_user(client, auth, 1)
    response = await export(client, user["token"], groupBy=group_by)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_group_by"
    assert body["details"] == {
        "unknown": unknown,
        "allowed": ["day", "user", "team", "key", "model"],
    }


async def test_repeated_dimensions_and_spaces_are_taken_once(client, auth):
    user = await spending_user(client, auth)
    rows = await exported_rows(client, user["token"], groupBy=" model, day ,model")
    assert len(rows) == 1 and rows[0]["period"].count("-") == 2  # by day


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xml"},
        {"format": "CSV"},
        {"groupBy": "day" * 40},
        {"userId": "\x00"},
    ],
)
async def test_other_bad_parameters_are_422(client, auth, params):
    response = await client.get(
        "/api/usage/export", params=params, headers=bearer(await token(auth, "user1"))
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
