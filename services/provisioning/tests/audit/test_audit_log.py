from datetime import UTC, datetime, timedelta

from ..conftest import audit, login, new_org, new_user


async def test_filters_by_actor_action_target_and_time(api, auth):
    admin = await login(auth, "admin")
    owner = await new_user(auth)
    start = datetime.now(UTC) - timedelta(seconds=1)
    org = await new_org(api, owner["headers"])
    await api.patch(f"/api/organizations/{org['id']}", json={"name": "B"}, headers=owner["headers"])
    by_actor = await audit(api, admin, actor=owner["username"], **{"from": start.isoformat()})
    assert [e["action"] for e in by_actor] == ["organization.updated", "organization.created"]
    assert await audit(api, admin, actor=owner["id"]) == by_actor
    by_prefix = await audit(api, admin, action="organization.*", targetId=org["id"])
    assert len(by_prefix) == 2
    exact = await audit(
        api, admin, action="organization.updated", targetType="organization", targetId=org["id"]
    )
    assert [e["before"]["name"] for e in exact] == ["Test organization"]
    assert exact[0]["requestId"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await audit(api, admin, actor=owner["id"], **{"from": future}) == []
    before_start = await audit(api, admin, actor=owner["id"], to=start.isoformat())
    assert before_start == []


async def test_pages_and_bad_filters(api, auth):
    admin = await login(auth, "admin")
    owner = await new_user(auth)
    for _ in range(3):
        await new_org(api, owner["headers"])
    page = await api.get(
        "/api/audit-logs", params={"actor": owner["id"], "limit": 2, "page": 2}, headers=admin
    )
    body = page.json()
    assert (len(body["entries"]), body["pagination"]["total"], body["pagination"]["pages"]) == (
        1,
        3,
        2,
    )
    # A time without its zone, or a number, is not a time: 422, as in every body.
    for moment in ("2030-01-01T00:00:00", "0.5", "1893456000", "2030-01-01"):
        refused = await api.get("/api/audit-logs", params={"from": moment}, headers=admin)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_error"), moment
    assert (await api.get("/api/audit-logs", params={"limit": 0}, headers=admin)).status_code == 422


async def test_only_admins_read_the_audit_log(api, auth):
    user = await new_user(auth)
    supervisor = await login(auth, "supervisor1")
    for headers in (user["headers"], supervisor):
        assert (await api.get("/api/audit-logs", headers=headers)).status_code == 403
