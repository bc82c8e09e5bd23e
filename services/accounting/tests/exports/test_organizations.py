"""Exports by organization (``?organizationId=``): what its teams' accounts paid for, for the
organization's owners and admins, with provisioning (faked over HTTP) saying who holds which
role and which accounts are the teams'."""

import uuid

import pytest

from accounting.exports.organizations import team_accounts
from jwt_contract import Principal
from service_client import ServiceClient
from service_kit import ApiError

from ..conftest import funded_user, token
from .usage import answer, csv_rows, export, exported_rows, team_key


async def organization(client, auth, provisioning) -> dict:
    """An organization of two funded teams with usage, its owner, an admin and a member, and
    some personal usage of the owner's that is not the organization's."""
    owner, org_admin, member = [await funded_user(client, auth, 20) for _ in range(3)]
    first, second = await team_key(client, auth, 20), await team_key(client, auth, 20)
    await answer(client, first, output_tokens=800)  # 1 credit
    await answer(client, second, output_tokens=400)  # 0.5
    await answer(client, second, output_tokens=400)  # 0.5
    await answer(client, owner, output_tokens=1600)  # 2, the owner's own
    org_id = provisioning.organization(
        {owner["id"]: "owner", org_admin["id"]: "admin", member["id"]: "member"},
        [first["account_id"], second["account_id"]],
    )
    return {
        "id": org_id,
        "owner": owner,
        "admin": org_admin,
        "member": member,
        "teams": (first, second),
    }


async def test_owners_and_admins_export_their_teams_usage(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    first, second = org["teams"]
    for manager in (org["owner"], org["admin"]):
        rows = await exported_rows(
            client, manager["token"], organizationId=org["id"], groupBy="team"
        )
        assert [(r["teamId"], r["requests"], r["credits"], r["userId"]) for r in rows] == sorted(
            [(first["team_id"], 1, 1, None), (second["team_id"], 2, 1, None)]
        )
        assert (org["id"], manager["id"]) in provisioning.asked


async def test_grouped_by_user_and_key_the_rows_name_who_spent(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    rows = await exported_rows(
        client, org["owner"]["token"], organizationId=org["id"], groupBy="user,team,key"
    )
    assert sorted((r["userId"], r["teamId"], r["keyId"], r["credits"]) for r in rows) == sorted(
        (team["id"], team["team_id"], team["key_id"], 1) for team in org["teams"]
    )


async def test_the_csv_has_an_empty_user_cell_when_not_grouped_by_user(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    response = await export(client, org["owner"]["token"], organizationId=org["id"], groupBy="")
    assert response.status_code == 200, response.text
    (row,) = csv_rows(response.text)
    assert (row["userId"], row["requests"], row["credits"]) == ("", "3", "2")


async def test_a_platform_admin_exports_any_organization(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    (row,) = await exported_rows(
        client, await token(auth, "admin"), organizationId=org["id"], groupBy=""
    )
    assert (row["requests"], row["credits"]) == (3, 2)


async def test_an_organization_without_teams_exports_no_rows(client, auth, provisioning):
    owner = await funded_user(client, auth, 20)
    await answer(client, owner, output_tokens=800)
    org_id = provisioning.organization({owner["id"]: "owner"})
    assert await exported_rows(client, owner["token"], organizationId=org_id) == []


@pytest.mark.parametrize("who", ["member", "stranger", "supervisor"])
async def test_members_and_strangers_are_403(client, auth, provisioning, who):
    org = await organization(client, auth, provisioning)
    caller = {
        "member": org["member"]["token"],
        "stranger": (await funded_user(client, auth, 1))["token"],
        "supervisor": await token(auth, "supervisor1"),
    }[who]
    response = await export(client, caller, organizationId=org["id"])
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert org["teams"][0]["team_id"] not in response.text


async def test_a_team_key_is_not_its_organizations_manager(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    response = await export(client, org["teams"][0]["token"], organizationId=org["id"])
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


async def test_an_unknown_organization_is_404_and_a_malformed_id_422(client, auth):
    user = await funded_user(client, auth, 1)
    unknown = await export(client, user["token"], organizationId=str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    malformed = await export(client, user["token"], organizationId="not-a-uuid")
    assert malformed.status_code == 422


async def test_user_and_organization_together_are_422(client, auth, provisioning):
    org = await organization(client, auth, provisioning)
    owner = org["owner"]
    response = await export(client, owner["token"], organizationId=org["id"], userId=owner["id"])
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_filter"


class _StaticToken:
    async def token(self) -> str:
        return "service-token"

    def invalidate(self, token: str) -> None:
        pass


async def test_provisioning_unreachable_is_503():
    provisioning = ServiceClient("http://127.0.0.1:9", "provisioning", _StaticToken())
    owner = Principal("someone", "someone", "s@example.com", "enduser", "access", "jti", 0)
    try:
        with pytest.raises(ApiError) as refused:
            await team_accounts(provisioning, owner, uuid.uuid4())
    finally:
        await provisioning.aclose()
    assert (refused.value.status, refused.value.code) == (503, "provisioning_unavailable")
    assert refused.value.headers["Retry-After"]
