"""``GET /internal/organizations/{id}/access``: a user's role in an organization and its team
accounts, for accounting's export by organization; services with organizations:read only."""

import uuid

from ..conftest import HAIKU, login, model_group, new_org, new_user, service_headers

ACCOUNTING = service_headers("accounting")


def access_path(org_id: str) -> str:
    return f"/internal/organizations/{org_id}/access"


async def test_it_answers_each_role_and_the_teams_accounts(api, auth):
    owner, admin_member, member, stranger = [await new_user(auth) for _ in range(4)]
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    for user, role in ((admin_member, "admin"), (member, "member")):
        added = await api.post(
            f"/api/organizations/{org['id']}/members",
            json={"username": user["username"], "role": role},
            headers=admin,
        )
        assert added.status_code == 201, added.text
    group = await model_group(api, admin, [HAIKU])
    teams = []
    for name in ("first", "second"):
        created = await api.post(
            "/api/teams",
            json={"organizationId": org["id"], "name": name, "modelGroups": [group]},
            headers=owner["headers"],
        )
        assert created.status_code == 201, created.text
        teams.append({"id": created.json()["id"], "accountId": created.json()["accountId"]})
    for user, role in (
        (owner, "owner"),
        (admin_member, "admin"),
        (member, "member"),
        (stranger, None),
    ):
        response = await api.get(
            access_path(org["id"]), params={"userId": user["id"]}, headers=ACCOUNTING
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"role": role, "teams": teams}


async def test_an_organization_without_teams_has_none(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    response = await api.get(
        access_path(org["id"]), params={"userId": owner["id"]}, headers=ACCOUNTING
    )
    assert response.json() == {"role": "owner", "teams": []}


async def test_an_unknown_or_deleted_organization_is_404(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    deleted = await api.delete(f"/api/organizations/{org['id']}", headers=owner["headers"])
    assert deleted.status_code == 204, deleted.text
    for org_id in (org["id"], str(uuid.uuid4())):
        response = await api.get(
            access_path(org_id), params={"userId": owner["id"]}, headers=ACCOUNTING
        )
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), org_id


async def test_only_services_holding_organizations_read_may_ask(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    path, params = access_path(org["id"]), {"userId": owner["id"]}
    assert (await api.get(path, params=params)).status_code == 401
    as_user = await api.get(path, params=params, headers=owner["headers"])
    assert (as_user.status_code, as_user.json()["code"]) == (403, "service_only")
    for service in ("chat", "gateway", "provisioning"):
        other = await api.get(path, params=params, headers=service_headers(service))
        assert (other.status_code, other.json()["code"]) == (403, "insufficient_scope"), service


async def test_a_missing_or_bad_user_id_or_org_id_is_422(api):
    org_id = str(uuid.uuid4())
    for path, params in (
        (access_path(org_id), {}),
        (access_path(org_id), {"userId": ""}),
        (access_path(org_id), {"userId": "a\x00b"}),
        (access_path("not-a-uuid"), {"userId": "someone"}),
    ):
        response = await api.get(path, params=params, headers=ACCOUNTING)
        assert response.status_code == 422, (path, params, response.text)
