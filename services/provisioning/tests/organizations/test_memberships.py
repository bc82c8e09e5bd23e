from ..conftest import audit, login, new_org, new_user


async def add(api, org, headers, **body):
    return await api.post(f"/api/organizations/{org['id']}/members", json=body, headers=headers)


async def test_owners_add_members_by_username_or_email(api, auth):
    owner, by_name, by_email = await new_user(auth), await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    first = await add(api, org, owner["headers"], username=by_name["username"], role="admin")
    second = await add(api, org, owner["headers"], email=by_email["email"].upper())
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert (first.json()["userId"], first.json()["role"]) == (by_name["id"], "admin")
    assert (second.json()["userId"], second.json()["role"]) == (by_email["id"], "member")
    members = await api.get(f"/api/organizations/{org['id']}/members", headers=owner["headers"])
    assert {m["username"]: m["role"] for m in members.json()["members"]} == {
        owner["username"]: "owner",
        by_name["username"]: "admin",
        by_email["username"]: "member",
    }


async def test_clear_errors_for_unknown_duplicate_and_ambiguous_members(api, auth):
    owner, member = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    unknown = await add(api, org, owner["headers"], username="no-such-user-here")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "user_not_found")
    assert (await add(api, org, owner["headers"], username=member["username"])).status_code == 201
    again = await add(api, org, owner["headers"], username=member["username"])
    assert (again.status_code, again.json()["code"]) == (409, "already_member")
    both = await add(api, org, owner["headers"], username="a", email="a@example.com")
    assert both.status_code == 422
    bad_role = await add(api, org, owner["headers"], username=member["username"], role="boss")
    assert bad_role.status_code == 422


async def test_members_cannot_manage_and_admins_cannot_make_owners(api, auth):
    owner, org_admin, member, other = [await new_user(auth) for _ in range(4)]
    org = await new_org(api, owner["headers"])
    await add(api, org, owner["headers"], username=org_admin["username"], role="admin")
    await add(api, org, owner["headers"], username=member["username"], role="member")
    by_member = await add(api, org, member["headers"], username=other["username"])
    assert by_member.status_code == 403
    listing = await api.get(f"/api/organizations/{org['id']}/members", headers=member["headers"])
    assert listing.status_code == 403
    owner_by_admin = await add(
        api, org, org_admin["headers"], username=other["username"], role="owner"
    )
    assert (owner_by_admin.status_code, owner_by_admin.json()["code"]) == (403, "forbidden")
    by_admin = await add(api, org, org_admin["headers"], username=other["username"])
    assert by_admin.status_code == 201
    remove_owner = await api.delete(
        f"/api/organizations/{org['id']}/members/{owner['id']}", headers=org_admin["headers"]
    )
    assert remove_owner.status_code == 403


async def test_the_last_owner_stays_and_removals_are_audited(api, auth):
    owner, member = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    await add(api, org, owner["headers"], username=member["username"])
    base = f"/api/organizations/{org['id']}/members"
    last = await api.delete(f"{base}/{owner['id']}", headers=owner["headers"])
    assert (last.status_code, last.json()["code"]) == (409, "last_owner")
    assert (await api.delete(f"{base}/{member['id']}", headers=owner["headers"])).status_code == 204
    assert (await api.delete(f"{base}/{member['id']}", headers=owner["headers"])).status_code == 404
    org_page = await api.get(f"/api/organizations/{org['id']}", headers=member["headers"])
    assert org_page.status_code == 404
    actions = [e["action"] for e in await audit(api, admin, organizationId=org["id"])]
    assert actions[:2] == ["membership.removed", "membership.added"]
