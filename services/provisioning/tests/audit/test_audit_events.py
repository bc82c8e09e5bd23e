"""``audit.recorded`` from the other services lands in this audit log once per eventId; a
body that does not fit is dead-lettered with its reason and writes nothing."""

import uuid

import asyncpg

from bus_events import AuditRecorded, event_of
from event_bus import EventPublisher, list_dead_letters

from ..conftest import audit, eventually, login, new_user


def recorded(**fields) -> dict:
    body = {
        "actor_id": "admin-1",
        "action": "credits.allocated",
        "target_type": "user",
        "target_id": str(uuid.uuid4()),
        "after": {"credits": 5, "notes": None},
        "request_id": "req-audit-1",
        **fields,
    }
    return event_of(AuditRecorded(**body))


async def publish(stack, *events: dict) -> None:
    publisher = EventPublisher(stack.settings.rabbitmq_url, stack.settings.bus_exchange)
    await publisher.connect()
    try:
        for event in events:
            await publisher.publish(event)
    finally:
        await publisher.close()


async def test_a_redelivered_event_is_written_once(stack, api, auth):
    admin = await login(auth, "admin")
    org = str(uuid.uuid4())
    event = recorded(organization_id=org, before={"credits": 0})
    await publish(stack, event, event)  # the same eventId twice

    async def written():
        return await audit(api, admin, targetId=event["targetId"])

    (entry,) = await eventually(written)
    pool = await asyncpg.create_pool(stack.settings.database_url, min_size=1, max_size=1)
    try:

        async def claimed():
            return await pool.fetchval(
                "SELECT count(*) FROM processed_events WHERE event_id = $1",
                uuid.UUID(event["eventId"]),
            )

        assert await eventually(claimed) == 1
    finally:
        await pool.close()
    assert {
        k: entry[k]
        for k in ("actorId", "action", "targetType", "organizationId", "before", "after")
    } == {
        "actorId": "admin-1",
        "action": "credits.allocated",
        "targetType": "user",
        "organizationId": org,
        "before": {"credits": 0},
        "after": {"credits": 5, "notes": None},
    }
    assert entry["requestId"] == "req-audit-1"
    assert await audit(api, admin, targetId=event["targetId"]) == [entry]


async def test_a_malformed_event_is_dead_lettered_with_its_reason(stack, api, auth):
    admin = await login(auth, "admin")
    no_actor = recorded()
    del no_actor["actorId"]
    bad_org = recorded(organization_id="not-a-uuid")
    await publish(stack, no_actor, bad_org)
    queue = stack.settings.audit_recorded_queue

    async def both_dead():
        letters = await list_dead_letters(stack.settings.rabbitmq_url, queue)
        found = {letter.event_id: letter for letter in letters}
        if {no_actor["eventId"], bad_org["eventId"]} <= set(found):
            return found
        return None

    found = await eventually(both_dead)
    assert found is not None
    assert "actorId" in found[no_actor["eventId"]].reason
    assert "organizationId" in found[bad_org["eventId"]].reason
    for event in (no_actor, bad_org):
        assert await audit(api, admin, targetId=event["targetId"]) == []


async def test_an_admin_role_change_in_auth_reaches_the_audit_log(api, auth):
    admin = await login(auth, "admin")
    user = await new_user(auth)
    response = await auth.patch(
        f"/api/auth/users/{user['id']}", json={"role": "supervisor"}, headers=admin
    )
    assert response.status_code == 200, response.text

    async def written():
        return await audit(api, admin, action="user.role_changed", targetId=user["id"])

    (entry,) = await eventually(written)
    assert (entry["before"], entry["after"]) == ({"role": "enduser"}, {"role": "supervisor"})
