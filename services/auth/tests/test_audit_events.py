"""Administrative actions in auth reach provisioning's audit log as ``audit.recorded``, put in
the outbox in the transaction that makes the change (CONTRACT.md "Bus events")."""

import asyncpg
import orjson

from .conftest import admin_token, bearer, register
from .test_personal_api_keys import KEYS, create

FIELDS = ("actorId", "action", "targetType", "targetId", "before", "after")


async def audit_events(settings, target_id: str) -> list[dict]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT payload::text AS payload FROM event_outbox "
            "WHERE routing_key = 'audit.recorded' AND payload->>'targetId' = $1 ORDER BY id",
            target_id,
        )
    finally:
        await conn.close()
    return [orjson.loads(row["payload"]) for row in rows]


async def test_role_changes_disables_and_enables_are_recorded_once_each(client, settings):
    user_id = (await register(client))["user"]["id"]
    token = await admin_token(client)
    admin_id = (await client.get("/api/auth/me", headers=bearer(token))).json()["id"]

    async def patch(body: dict, request_id: str) -> None:
        response = await client.patch(
            f"/api/auth/users/{user_id}",
            json=body,
            headers={**bearer(token), "X-Request-ID": request_id},
        )
        assert response.status_code == 200, response.text

    await patch({"role": "supervisor"}, "audit-role-1")
    await patch({"role": "supervisor"}, "audit-role-2")  # no change, nothing recorded
    await patch({"disabled": True}, "audit-disable-1")
    await patch({"disabled": False, "role": "enduser"}, "audit-both-1")

    events = await audit_events(settings, user_id)
    assert [{k: e[k] for k in FIELDS} for e in events] == [
        {
            "actorId": admin_id,
            "action": "user.role_changed",
            "targetType": "user",
            "targetId": user_id,
            "before": {"role": "enduser"},
            "after": {"role": "supervisor"},
        },
        {
            "actorId": admin_id,
            "action": "user.disabled",
            "targetType": "user",
            "targetId": user_id,
            "before": {"disabled": False},
            "after": {"disabled": True},
        },
        {
            "actorId": admin_id,
            "action": "user.role_changed",
            "targetType": "user",
            "targetId": user_id,
            "before": {"role": "supervisor"},
            "after": {"role": "enduser"},
        },
        {
            "actorId": admin_id,
            "action": "user.enabled",
            "targetType": "user",
            "targetId": user_id,
            "before": {"disabled": True},
            "after": {"disabled": False},
        },
    ]
    assert [e["requestId"] for e in events] == [
        "audit-role-1",
        "audit-disable-1",
        "audit-both-1",
        "audit-both-1",
    ]
    assert {(e["type"], e["version"]) for e in events} == {("audit.recorded", 1)}
    assert len({e["eventId"] for e in events}) == 4


async def test_personal_key_creation_and_revocation_are_recorded_without_the_secret(
    client, settings
):
    user = await register(client)
    user_id, token = user["user"]["id"], user["accessToken"]
    key = await create(client, token, name="audited", requestsPerMinute=12)
    revoked = await client.delete(f"{KEYS}/{key['id']}", headers=bearer(token))
    assert revoked.status_code == 200, revoked.text

    created_event, revoked_event = await audit_events(settings, key["id"])
    assert {k: created_event.get(k) for k in ("actorId", "action", "targetType", "before")} == {
        "actorId": user_id,
        "action": "personal_key.created",
        "targetType": "api_key",
        "before": None,
    }
    assert created_event["after"]["name"] == "audited"
    assert created_event["after"]["prefix"] == key["prefix"]
    assert created_event["after"]["requestsPerMinute"] == 12
    assert {k: revoked_event.get(k) for k in ("actorId", "action", "targetType", "after")} == {
        "actorId": user_id,
        "action": "personal_key.revoked",
        "targetType": "api_key",
        "after": None,
    }
    assert revoked_event["before"]["name"] == "audited"
    for event in (created_event, revoked_event):
        assert key["key"] not in orjson.dumps(event).decode()
