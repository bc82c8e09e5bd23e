"""A new user gets the default plan's grant with no manual step, exactly once."""

from datetime import UTC, datetime

import asyncpg

from bus_events import UserRegistered, event_of
from event_bus import EventPublisher
from provisioning import metrics
from provisioning.clients.accounting import AccountingClient
from provisioning.onboarding.grants import GrantWorker
from service_client import ServiceTokens

from ..conftest import DEFAULT_PLAN_CREDITS, audit, eventually, login, new_user


async def available(accounting, user) -> float:
    response = await accounting.get("/api/credits/balance", headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()["availableCredits"]


async def test_a_new_user_can_spend_the_default_grant_at_once(api, auth, accounting):
    user = await new_user(auth)

    async def granted():
        return await available(accounting, user) == DEFAULT_PLAN_CREDITS

    assert await eventually(granted)
    admin = await login(auth, "admin")
    (entry,) = await audit(api, admin, action="plan.assigned", targetId=user["id"])
    assert (entry["actorId"], entry["after"]["plan"]) == ("system", "free")


async def test_redelivered_and_repeated_registrations_grant_nothing_twice(stack, auth, accounting):
    user = await new_user(auth)

    async def granted():
        return await available(accounting, user) == DEFAULT_PLAN_CREDITS

    assert await eventually(granted)
    body = UserRegistered(
        user_id=user["id"], username=user["username"], email=user["email"], role="enduser"
    )
    replay, fresh = event_of(body), event_of(body)
    duplicates = metrics.EVENTS_PROCESSED.labels("user.registered", "duplicate")
    seen_before = duplicates._value.get()
    publisher = EventPublisher(stack.settings.rabbitmq_url, stack.settings.bus_exchange)
    await publisher.connect()
    try:
        await publisher.publish(replay)
        await publisher.publish(replay)  # the same eventId again
        await publisher.publish(fresh)  # a new id, for a user who is already on a plan
    finally:
        await publisher.close()
    pool = await asyncpg.create_pool(stack.settings.database_url, min_size=1, max_size=2)
    try:

        async def all_handled():
            applied = await pool.fetchval(
                "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::uuid[])",
                [replay["eventId"], fresh["eventId"]],
            )
            return applied == 2 and duplicates._value.get() >= seen_before + 1

        assert await eventually(all_handled)
        grants = await pool.fetchval(
            "SELECT count(*) FROM plan_grants WHERE user_id = $1", user["id"]
        )
    finally:
        await pool.close()
    assert grants == 1
    assert await available(accounting, user) == DEFAULT_PLAN_CREDITS


async def test_grants_wait_out_an_accounting_outage_and_arrive_once(stack, auth, accounting):
    """A grant accounting could not take stays pending and is retried; nothing is lost."""
    user = await new_user(auth)
    await stack.app.state.grants.stop()  # this test plays the worker itself
    pool = await asyncpg.create_pool(stack.settings.database_url, min_size=1, max_size=4)
    tokens = ServiceTokens(stack.auth, "provisioning", stack.settings.service_client_secret)
    dead = AccountingClient("http://127.0.0.1:9", tokens, timeout=1)
    live = AccountingClient(stack.accounting, tokens)
    try:
        await pool.execute(
            """
            INSERT INTO plan_grants (idempotency_key, user_id, username, plan_id, plan_version,
                                     period, amount_micro, status)
            SELECT 'outage-test:' || $1, $1, $2, id, 1, 'outage-test', 7000000, 'pending'
            FROM plans WHERE is_default
            """,
            user["id"],
            user["username"],
        )
        down = GrantWorker(pool, dead, poll_seconds=60, renewal_interval_seconds=3600)
        assert await down.deliver_due() == 0
        row = await pool.fetchrow(
            "SELECT status, attempts, last_error, next_attempt_at > now() AS later "
            "FROM plan_grants WHERE idempotency_key = $1",
            f"outage-test:{user['id']}",
        )
        assert (row["status"], row["attempts"], row["later"]) == ("pending", 1, True)
        assert "unavailable" in row["last_error"]
        await pool.execute(
            "UPDATE plan_grants SET next_attempt_at = now() WHERE idempotency_key = $1",
            f"outage-test:{user['id']}",
        )
        up = GrantWorker(pool, live, poll_seconds=60, renewal_interval_seconds=3600)
        assert await up.deliver_due() >= 1
        status = await pool.fetchval(
            "SELECT status FROM plan_grants WHERE idempotency_key = $1", f"outage-test:{user['id']}"
        )
        assert status == "granted"
    finally:
        await dead.aclose()
        await live.aclose()
        await tokens.aclose()
        await pool.close()
        stack.app.state.grants.start()

    async def both_grants():
        return await available(accounting, user) == DEFAULT_PLAN_CREDITS + 7

    assert await eventually(both_grants)


async def test_monthly_renewal_adds_only_missing_grants(stack, auth, accounting):
    user = await new_user(auth)

    async def granted():
        return await available(accounting, user) == DEFAULT_PLAN_CREDITS

    assert await eventually(granted)
    pool = await asyncpg.create_pool(stack.settings.database_url, min_size=1, max_size=2)
    try:
        worker = GrantWorker(pool, None, poll_seconds=60, renewal_interval_seconds=3600)
        await worker.renew()  # everyone onboarded this month already has this month's grant
        this_month = await pool.fetchval(
            "SELECT count(*) FROM plan_grants WHERE user_id = $1", user["id"]
        )
        # Pretend the grant was last month's: renewal writes this month's.
        await pool.execute(
            "UPDATE plan_grants SET period = '1999-01', "
            "idempotency_key = idempotency_key || ':old' WHERE user_id = $1",
            user["id"],
        )
        assert await worker.renew() >= 1
        periods = await pool.fetch(
            "SELECT period, status FROM plan_grants WHERE user_id = $1 ORDER BY period", user["id"]
        )
    finally:
        await pool.close()
    assert this_month == 1
    assert [p["period"] for p in periods][1:] == [datetime.now(UTC).strftime("%Y-%m")]
    assert (periods[0]["period"], periods[1]["status"]) == ("1999-01", "pending")
