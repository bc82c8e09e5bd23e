import asyncio
import uuid

import asyncpg

from ..conftest import audit, login, new_org, new_user
from .joining import accept, invite, join


async def members_of(api, org, headers) -> dict[str, str]:
    response = await api.get(f"/api/organizations/{org['id']}/members", headers=headers)
    assert response.status_code == 200, response.text
    return {m["username"]: m["role"] for m in response.json()["members"]}


async def received(api, user) -> list[dict]:
    response = await api.get("/api/invitations", headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()["invitations"]


async def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(api, auth):
    owner, existing = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    for_user = await invite(api, org, owner["headers"], existing["email"], "admin")
    for_nobody = await invite(api, org, owner["headers"], nobody, "admin")
    assert (for_user.status_code, for_nobody.status_code) == (201, 201), for_nobody.text
    first, second = for_user.json(), for_nobody.json()
    assert first.keys() == second.keys()
    assert {"id", "email", "role", "expiresAt"} <= first.keys()
    differs = {"id", "email", "createdAt", "expiresAt"}
    assert {k: v for k, v in first.items() if k not in differs} == {
        k: v for k, v in second.items() if k not in differs
    }
    assert (first["email"], second["email"]) == (existing["email"], nobody)
    # Nor does the listing tell them apart.
    listed = await api.get(f"/api/organizations/{org['id']}/invitations", headers=owner["headers"])
    assert [i["email"] for i in listed.json()["invitations"]] == [existing["email"], nobody]
    assert listed.json()["invitations"][0].keys() == listed.json()["invitations"][1].keys()


async def test_membership_starts_only_when_the_invitee_accepts(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    invited = await invite(api, org, owner["headers"], invitee["email"].upper(), "admin")
    assert invited.status_code == 201, invited.text
    assert await members_of(api, org, owner["headers"]) == {owner["username"]: "owner"}
    org_url = f"/api/organizations/{org['id']}"
    assert (await api.get(org_url, headers=invitee["headers"])).status_code == 404
    [pending] = await received(api, invitee)  # matched whatever the case of the address
    assert (pending["id"], pending["organizationName"], pending["role"]) == (
        invited.json()["id"],
        org["name"],
        "admin",
    )
    assert pending["invitedByUsername"] == owner["username"]
    accepted = await accept(api, pending["id"], invitee)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["userId"], body["role"], body["email"]) == (
        invitee["id"],
        "admin",
        invitee["email"],
    )
    assert (await api.get(org_url, headers=invitee["headers"])).json()["role"] == "admin"
    assert await members_of(api, org, owner["headers"]) == {
        owner["username"]: "owner",
        invitee["username"]: "admin",
    }
    assert await received(api, invitee) == []
    listed = await api.get(f"{org_url}/invitations", headers=owner["headers"])
    assert listed.json()["invitations"] == []


async def test_a_stranger_cannot_see_accept_or_decline_someone_elses_invitation(api, auth):
    owner, invitee, stranger = [await new_user(auth) for _ in range(3)]
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    assert await received(api, stranger) == []
    taken = await accept(api, invited["id"], stranger)
    assert (taken.status_code, taken.json()["code"]) == (404, "not_found")
    declined = await api.post(
        f"/api/invitations/{invited['id']}/decline", headers=stranger["headers"]
    )
    assert declined.status_code == 404
    assert taken.json() == (await accept(api, str(uuid.uuid4()), stranger)).json()
    org_page = await api.get(f"/api/organizations/{org['id']}", headers=stranger["headers"])
    assert org_page.status_code == 404
    # Still the invitee's to accept.
    assert (await accept(api, invited["id"], invitee)).status_code == 200


async def test_accepting_twice_gives_one_membership(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    first = await accept(api, invited["id"], invitee)
    again = await accept(api, invited["id"], invitee)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert first.json() == again.json()
    assert await members_of(api, org, admin) == {
        owner["username"]: "owner",
        invitee["username"]: "member",
    }
    target = f"{org['id']}:{invitee['id']}"
    assert len(await audit(api, admin, action="membership.added", targetId=target)) == 1
    assert len(await audit(api, admin, action="invitation.accepted", targetId=invited["id"])) == 1


async def test_two_concurrent_accepts_make_one_membership(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    responses = await asyncio.gather(*(accept(api, invited["id"], invitee) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert await members_of(api, org, admin) == {
        owner["username"]: "owner",
        invitee["username"]: "member",
    }
    target = f"{org['id']}:{invitee['id']}"
    assert len(await audit(api, admin, action="membership.added", targetId=target)) == 1
    assert len(await audit(api, admin, action="invitation.accepted", targetId=invited["id"])) == 1


async def test_a_revoked_invitation_cannot_be_accepted(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    url = f"/api/organizations/{org['id']}/invitations/{invited['id']}"
    assert (await api.delete(url, headers=owner["headers"])).status_code == 204
    assert (await api.delete(url, headers=owner["headers"])).status_code == 404
    assert await received(api, invitee) == []
    refused = await accept(api, invited["id"], invitee)
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert await members_of(api, org, admin) == {owner["username"]: "owner"}
    actions = [e["action"] for e in await audit(api, admin, targetId=invited["id"])]
    assert actions == ["invitation.revoked", "invitation.created"]


async def test_a_declined_invitation_is_closed(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    decline = f"/api/invitations/{invited['id']}/decline"
    assert (await api.post(decline, headers=invitee["headers"])).status_code == 204
    assert (await api.post(decline, headers=invitee["headers"])).status_code == 204
    assert (await accept(api, invited["id"], invitee)).status_code == 404
    assert await received(api, invitee) == []
    assert await members_of(api, org, admin) == {owner["username"]: "owner"}
    actions = [e["action"] for e in await audit(api, admin, targetId=invited["id"])]
    assert actions == ["invitation.declined", "invitation.created"]


async def test_an_expired_invitation_is_gone(api, auth, stack):
    owner, invitee = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    invited = await invite(api, org, owner["headers"], invitee["email"])
    body = invited.json()
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        ttl = await conn.fetchval(
            "SELECT expires_at - created_at FROM invitations WHERE id = $1", uuid.UUID(body["id"])
        )
        await conn.execute(
            "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1",
            uuid.UUID(body["id"]),
        )
    finally:
        await conn.close()
    assert ttl.days == 7  # INVITATION_TTL_DAYS' default
    assert await received(api, invitee) == []
    listed = await api.get(f"/api/organizations/{org['id']}/invitations", headers=owner["headers"])
    assert listed.json()["invitations"] == []
    late = await accept(api, body["id"], invitee)
    assert (late.status_code, late.json()["code"]) == (410, "invitation_expired")
    # The address may be invited again.
    assert (await invite(api, org, owner["headers"], invitee["email"])).status_code == 201


async def test_a_deleted_organizations_invitations_are_dead(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"])).json()
    deleted = await api.delete(f"/api/organizations/{org['id']}", headers=owner["headers"])
    assert deleted.status_code == 204
    assert await received(api, invitee) == []
    assert (await accept(api, invited["id"], invitee)).status_code == 404
    org_page = await api.get(f"/api/organizations/{org['id']}", headers=invitee["headers"])
    assert org_page.status_code == 404


async def test_only_owners_invite_owners_and_members_do_not_invite(api, auth):
    owner, org_admin, member, stranger = [await new_user(auth) for _ in range(4)]
    org = await new_org(api, owner["headers"])
    await join(api, org, owner["headers"], org_admin, "admin")
    await join(api, org, owner["headers"], member, "member")
    someone = f"someone-{uuid.uuid4().hex[:8]}@example.com"
    by_member = await invite(api, org, member["headers"], someone)
    by_stranger = await invite(api, org, stranger["headers"], someone)
    assert (by_member.status_code, by_stranger.status_code) == (403, 404)
    owner_by_admin = await invite(api, org, org_admin["headers"], someone, "owner")
    assert (owner_by_admin.status_code, owner_by_admin.json()["code"]) == (403, "forbidden")
    assert (await invite(api, org, org_admin["headers"], someone, "admin")).status_code == 201
    other = f"other-{uuid.uuid4().hex[:8]}@example.com"
    owner_invite = await invite(api, org, owner["headers"], other, "owner")
    assert owner_invite.status_code == 201, owner_invite.text
    url = f"/api/organizations/{org['id']}/invitations"
    for headers in (member["headers"], stranger["headers"]):
        assert (await api.get(url, headers=headers)).status_code in (403, 404)
    revoke_owner = await api.delete(
        f"{url}/{owner_invite.json()['id']}", headers=org_admin["headers"]
    )
    assert revoke_owner.status_code == 403
    by_member_revoke = await api.delete(
        f"{url}/{owner_invite.json()['id']}", headers=member["headers"]
    )
    assert by_member_revoke.status_code == 403


async def test_an_owner_invited_by_an_owner_becomes_an_owner(api, auth):
    owner, second = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    membership = await join(api, org, owner["headers"], second, "owner")
    assert membership["role"] == "owner"
    # Now there are two owners, so the first may leave.
    leave = await api.delete(
        f"/api/organizations/{org['id']}/members/{owner['id']}", headers=second["headers"]
    )
    assert leave.status_code == 204


async def test_an_existing_member_keeps_their_role(api, auth):
    owner, org_admin = await new_user(auth), await new_user(auth)
    org = await new_org(api, owner["headers"])
    await join(api, org, owner["headers"], org_admin, "admin")
    invited = await invite(api, org, owner["headers"], org_admin["email"], "member")
    assert invited.status_code == 201, invited.text  # nobody was looked up
    accepted = await accept(api, invited.json()["id"], org_admin)
    assert (accepted.status_code, accepted.json()["role"]) == (200, "admin")
    assert (await members_of(api, org, owner["headers"]))[org_admin["username"]] == "admin"


async def test_bad_invitations_get_clear_errors(api, auth):
    owner = await new_user(auth)
    org = await new_org(api, owner["headers"])
    for email in (
        "not-an-address",
        "a@b",
        "a b@example.com",
        "a\u0000b@example.com",
        "",
    ):
        bad = await invite(api, org, owner["headers"], email)
        assert (bad.status_code, bad.json()["code"]) == (422, "validation_error"), email
    surrogate = await api.post(  # JSON can say it; PostgreSQL could not store it
        f"/api/organizations/{org['id']}/invitations",
        content=b'{"email": "\\ud800@example.com"}',
        headers={**owner["headers"], "Content-Type": "application/json"},
    )
    assert (surrogate.status_code, surrogate.json()["code"]) == (422, "validation_error")
    bad_role = await invite(api, org, owner["headers"], "x@example.com", "boss")
    assert bad_role.status_code == 422
    address = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    assert (await invite(api, org, owner["headers"], address)).status_code == 201
    twice = await invite(api, org, owner["headers"], address.upper())
    assert (twice.status_code, twice.json()["code"]) == (409, "already_invited")
    unknown = await api.delete(
        f"/api/organizations/{org['id']}/invitations/{uuid.uuid4()}", headers=owner["headers"]
    )
    assert unknown.status_code == 404
    assert (await api.get("/api/invitations")).status_code == 401


async def test_every_invitation_change_is_audited(api, auth):
    owner, invitee = await new_user(auth), await new_user(auth)
    admin = await login(auth, "admin")
    org = await new_org(api, owner["headers"])
    invited = (await invite(api, org, owner["headers"], invitee["email"], "admin")).json()
    assert (await accept(api, invited["id"], invitee)).status_code == 200
    entries = await audit(api, admin, organizationId=org["id"])
    assert [e["action"] for e in entries[:3]] == [
        "membership.added",
        "invitation.accepted",
        "invitation.created",
    ]
    created = entries[2]
    assert (created["actorId"], created["targetType"], created["targetId"]) == (
        owner["id"],
        "invitation",
        invited["id"],
    )
    assert created["after"]["email"] == invitee["email"]
    assert entries[1]["actorId"] == invitee["id"]
    assert entries[0]["after"]["role"] == "admin"
