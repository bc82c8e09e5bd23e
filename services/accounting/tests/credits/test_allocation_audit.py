"""An admin's allocation is published as ``audit.recorded`` through the outbox, in the
allocation's transaction; grants (provisioning audits those itself) and refusals are not."""

import uuid

import orjson

from ..conftest import allocate, new_user, signed_service_headers, token

INTERNAL = signed_service_headers("provisioning")


async def audit_events(db, target_id: str) -> list[dict]:
    rows = await db.fetch(
        "SELECT payload::text AS payload FROM event_outbox "
        "WHERE routing_key = 'audit.recorded' AND payload->>'targetId' = $1 ORDER BY id",
        target_id,
    )
    return [orjson.loads(row["payload"]) for row in rows]


async def test_an_allocation_is_recorded_with_who_what_and_how_much(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    admin_id = (
        await auth.get("/api/auth/me", headers={"Authorization": f"Bearer {admin}"})
    ).json()["id"]
    response = await client.post(
        "/api/credits/allocate",
        json={"targetUserId": user["username"], "credits": "12.5", "notes": "audit me"},
        headers={"Authorization": f"Bearer {admin}", "X-Request-ID": "alloc-audit-1"},
    )
    assert response.status_code == 201, response.text

    (event,) = await audit_events(db, user["id"])
    assert (event["type"], event["version"]) == ("audit.recorded", 1)
    assert {k: event[k] for k in ("actorId", "action", "targetType", "targetId", "requestId")} == {
        "actorId": admin_id,
        "action": "credits.allocated",
        "targetType": "user",
        "targetId": user["id"],
        "requestId": "alloc-audit-1",
    }
    assert event["after"] == {
        "allocationId": response.json()["id"],
        "credits": 12.5,
        "expiresAt": None,
        "notes": "audit me",
    }


async def test_a_refused_allocation_and_a_grant_record_nothing(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    refused = await allocate(client, admin, user["id"], 1, expiresAt="2001-01-01T00:00:00Z")
    assert refused.status_code == 400, refused.text
    team = f"team-{uuid.uuid4()}"
    grant = {
        "ownerType": "team",
        "ownerId": team,
        "credits": 5,
        "idempotencyKey": f"audit:{team}",
        "grantedBy": "owner-1",
    }
    granted = await client.post("/internal/grants", json=grant, headers=INTERNAL)
    assert granted.status_code == 201, granted.text
    assert await audit_events(db, user["id"]) == []
    assert await audit_events(db, team) == []


async def test_the_relay_is_woken_once_the_audit_is_stored(client, auth, db, app, monkeypatch):
    """The relay polls seldom (OUTBOX_POLL_SECONDS): an audit stored here wakes it."""
    user = await new_user(auth)
    admin = await token(auth, "admin")
    woken: list[bool] = []
    monkeypatch.setattr(app.state.credits, "wake_relay", lambda: woken.append(True))
    refused = await allocate(client, admin, user["id"], 1, expiresAt="2001-01-01T00:00:00Z")
    assert refused.status_code == 400
    assert woken == []  # nothing stored, nothing to publish

    response = await allocate(client, admin, user["id"], 2)
    assert response.status_code == 201, response.text
    assert woken == [True]
    assert len(await audit_events(db, user["id"])) == 1
