"""One audit trail (issue 14): an admin changes a user's role at auth and gives them credits at
accounting; both actions reach provisioning's `GET /api/audit-logs` over the bus
(`audit.recorded`) within a few seconds, read through the gateway as the admin."""

import time

import httpx
from helpers import bearer, new_user, tokens_for


def eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def entries(gateway: httpx.Client, admin: dict[str, str], **filters: str) -> list[dict]:
    response = gateway.get("/api/audit-logs", params=filters, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_a_role_change_and_an_allocation_reach_the_audit_log(gateway: httpx.Client):
    admin_tokens = tokens_for(gateway, "admin")
    admin, admin_id = bearer(admin_tokens["accessToken"]), admin_tokens["user"]["id"]
    user_id = new_user(gateway)["user"]["id"]

    changed = gateway.patch(
        f"/api/auth/users/{user_id}", json={"role": "supervisor"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    allocated = gateway.post(
        "/api/credits/allocate",
        json={"targetUserId": user_id, "credits": 7, "notes": "audit trail e2e"},
        headers=admin,
    )
    assert allocated.status_code == 201, allocated.text

    def both() -> dict[str, dict] | None:
        found = {entry["action"]: entry for entry in entries(gateway, admin, targetId=user_id)}
        wanted = {"user.role_changed", "credits.allocated"}
        return found if wanted <= set(found) else None

    found = eventually(both)
    assert found is not None, entries(gateway, admin, targetId=user_id)
    role = found["user.role_changed"]
    assert (role["actorId"], role["targetType"]) == (admin_id, "user")
    assert (role["before"], role["after"]) == ({"role": "enduser"}, {"role": "supervisor"})
    assert role["requestId"]
    allocation = found["credits.allocated"]
    assert (allocation["actorId"], allocation["targetType"]) == (admin_id, "user")
    assert allocation["after"]["allocationId"] == allocated.json()["id"]
    assert allocation["after"]["credits"] == 7
    # Filters work on the events' entries as on provisioning's own.
    by_actor = entries(gateway, admin, actor=admin_id, action="credits.*", targetId=user_id)
    assert [entry["action"] for entry in by_actor] == ["credits.allocated"]
