"""What a key holds moves to what it spent exactly as the account's does, once, however the
reservation ends: finalize, abort, release, expiry, or a (redelivered) usage.recorded."""

import asyncio
import uuid

import asyncpg
import pytest
import pytest_asyncio

from accounting.ledger.check import find_problems
from bus_events import UsageRecorded, event_of
from event_bus import EventPublisher

from ..conftest import balance, bearer, eventually, on_behalf
from .keys import HAIKU, HOLD_1000_MICRO, KeySpend, key_holder, key_spend, reserve, settle


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def publisher(rabbitmq_url, bus_namespace, app):
    bus = EventPublisher(rabbitmq_url, bus_namespace.exchange)
    await bus.connect()
    yield bus
    await bus.close()


async def held(client, holder) -> str:
    answer = await reserve(client, holder, session="chat-1")
    assert answer.status_code == 201, answer.text
    return answer.json()["streamingSessionId"]


async def test_every_ending_moves_the_keys_hold_to_its_spend_once(client, auth, db, app, publisher):
    holder = await key_holder(client, auth, 100, budget=50)
    spent = 0

    async def expect(charged_micro: int, still_held: int = 0) -> None:
        nonlocal spent
        spent += charged_micro
        assert await key_spend(db, holder["key_id"]) == KeySpend(spent, still_held, 50_000_000)

    # Finalize, retried: 400 * 0.25/1K + 600 * 1.25/1K = 0.85, charged once.
    finalized = await held(client, holder)
    for _ in range(2):
        await settle(client, holder, finalized, inputTokens=400, outputTokens=600)
    await expect(850_000)

    # Abort charging what was generated, then finalize it again: 200 * 1.25/1K.
    aborted = await held(client, holder)
    await settle(client, holder, aborted, path="abort", outputTokens=200)
    await settle(client, holder, aborted, actualTokens=1000)
    await expect(250_000)

    # Released: nothing generated, nothing spent, nothing held.
    released = await held(client, holder)
    assert (await settle(client, holder, released, path="abort")).json()["usedCredits"] == 0
    await expect(0)

    # Expired unsettled: charged the last progress reported (100 output tokens).
    expired = await held(client, holder)
    extended = await client.post(
        f"/api/streaming-sessions/{expired}/extend",
        json={"outputTokens": 100},
        headers=on_behalf(holder),
    )
    assert extended.status_code == 200, extended.text
    await expect(0, still_held=HOLD_1000_MICRO)
    await db.execute(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(expired),
    )
    assert await app.state.hold_sweeper.sweep_once() >= 1
    await app.state.hold_sweeper.sweep_once()  # a second sweep finds it ended
    await expect(125_000)

    # Settled by usage.recorded, delivered three times: charged once (0.85).
    by_event = await held(client, holder)
    event = event_of(
        UsageRecorded(
            user_id=holder["id"],
            session_id="chat-1",
            streaming_session_id=uuid.UUID(by_event),
            model_id=HAIKU,
            input_tokens=400,
            output_tokens=600,
        )
    )
    for _ in range(3):
        await publisher.publish(event)

    async def settled_by_event() -> bool:
        spend = await key_spend(db, holder["key_id"])
        return spend is not None and spend.held_micro == 0

    assert await eventually(settled_by_event)
    await asyncio.sleep(0.5)  # let the redeliveries arrive
    await expect(850_000)

    # The owner paid exactly what the key spent.
    after = await balance(client, holder)
    assert (after["totalCredits"], after["reservedCredits"]) == (100 - spent / 1e6, 0)
    assert spent == 850_000 + 250_000 + 125_000 + 850_000
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_usage_recorded_for_a_keys_hold_racing_its_finalize_counts_once(
    client, auth, db, publisher
):
    holder = await key_holder(client, auth, 100, budget=50)
    streaming_session_id = await held(client, holder)
    event = event_of(
        UsageRecorded(
            user_id=holder["id"],
            session_id="chat-1",
            streaming_session_id=uuid.UUID(streaming_session_id),
            model_id=HAIKU,
            input_tokens=0,
            output_tokens=800,
        )
    )
    await asyncio.gather(
        publisher.publish(event),
        settle(client, holder, streaming_session_id, outputTokens=800),
        publisher.publish(event),
    )

    async def settled() -> bool:
        spend = await key_spend(db, holder["key_id"])
        return spend is not None and spend.held_micro == 0

    assert await eventually(settled)
    await asyncio.sleep(0.5)
    assert await key_spend(db, holder["key_id"]) == KeySpend(1_000_000, 0, 50_000_000)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_a_direct_charge_with_a_key_stops_at_its_budget(client, auth, db):
    """``/api/usage/record`` for a key's token: what is left of the budget at most, the rest
    recorded as unpaid, as for an account that ran dry."""
    holder = await key_holder(client, auth, 100, budget=2)
    await held(client, holder)  # holds 1.375 of the 2

    async def record(credits) -> dict:
        answer = await client.post(
            "/api/usage/record",
            json={"service": "tools", "operation": "search", "credits": credits},
            headers=on_behalf(holder),
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    first = await record(1)
    assert (first["chargedCredits"], first["unpaidCredits"]) == (0.625, 0.375)
    second = await record("0.5")
    assert (second["chargedCredits"], second["unpaidCredits"]) == (0, 0.5)
    assert await key_spend(db, holder["key_id"]) == KeySpend(625_000, HOLD_1000_MICRO, 2_000_000)
    assert (await balance(client, holder))["totalCredits"] == 100 - 0.625
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_the_ledger_check_finds_a_key_out_of_step(client, auth, db):
    holder = await key_holder(client, auth, 100, budget=2)
    streaming_session_id = await held(client, holder)
    await settle(client, holder, streaming_session_id, outputTokens=800)
    key_id = uuid.UUID(holder["key_id"])
    tampered = {
        "spent_micro = spent_micro + 1": [
            "a key's spend differs from what its ended reservations and direct charges took",
            "a key's spend differs from its usage records",
        ],
        "held_micro = held_micro + 1": ["a key's held differs from what its open reservations"],
        "budget_micro = 999999": ["a key spent and holds more than its budget"],
    }
    for change, expected in tampered.items():
        before = await db.fetchrow("SELECT * FROM key_spend WHERE key_id = $1", key_id)
        await db.execute(f"UPDATE key_spend SET {change} WHERE key_id = $1", key_id)
        try:
            async with db.acquire() as conn:
                problems = await find_problems(conn)
        finally:
            await db.execute(
                "UPDATE key_spend SET spent_micro = $2, held_micro = $3, budget_micro = $4 "
                "WHERE key_id = $1",
                key_id,
                before["spent_micro"],
                before["held_micro"],
                before["budget_micro"],
            )
        for description in expected:
            assert any(p.startswith(description) for p in problems), (change, problems)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_a_key_spends_from_one_account_only(client, auth, db):
    """A key's row names its account: a hold for it on another account is refused by the
    ledger (auth never signs such a token; the check is the ledger's own)."""
    holder = await key_holder(client, auth, 100, budget=5)
    other = await key_holder(client, auth, 100, budget=5)
    await held(client, holder)
    other_account = await db.fetchval(
        "SELECT id FROM accounts WHERE owner_type = 'user' AND owner_id = $1", other["id"]
    )
    with pytest.raises(asyncpg.RaiseError, match="spends from account"):
        await db.fetchrow(
            "SELECT * FROM ledger_reserve_for_key(gen_random_uuid(), $1, $2, 5000000, 'x', 's', "
            "$3, 1, 1, now() + interval '1 minute')",
            other_account,
            uuid.UUID(holder["key_id"]),
            HAIKU,
        )
    assert await key_spend(db, other["key_id"]) is None


async def test_the_stats_of_a_key_holder_show_spend_by_key(client, auth, db):
    holder = await key_holder(client, auth, 100, budget=10, name="ci")
    second = await key_holder(client, auth, 10, budget=None)  # another user, another key
    for path_tokens in (600, 200):
        await settle(client, holder, await held(client, holder), outputTokens=path_tokens)
    open_hold = await held(client, holder)
    await settle(client, second, await held(client, second), outputTokens=400)
    # The owner's own session (no key) is in the totals, not by key.
    own = {**holder, "token": holder["owner_token"]}
    await settle(
        client, own, (await reserve(client, own)).json()["streamingSessionId"], outputTokens=80
    )

    stats = await client.get("/api/usage/stats", headers=bearer(holder["owner_token"]))
    body = stats.json()
    assert body["totals"]["credits"] == 1.1  # 800 tokens by key + 80 without, at 1.25/1K
    assert body["byKey"] == [
        {
            "keyId": holder["key_id"],
            "credits": 1,
            "inputTokens": 0,
            "outputTokens": 800,
            "tokens": 800,
            "requests": 2,
            "spentCredits": 1,
            "heldCredits": 1.375,
            "maxBudgetCredits": 10,
        }
    ]
    only_key = await client.get(
        "/api/usage/stats",
        params={"keyId": holder["key_id"]},
        headers=bearer(holder["owner_token"]),
    )
    assert only_key.json()["keyId"] == holder["key_id"]
    assert only_key.json()["totals"]["credits"] == 1
    assert only_key.json()["byKey"] == body["byKey"]
    # The key's own token reads its owner's stats; another user's key is nothing to them.
    assert (await client.get("/api/usage/stats", headers=bearer(holder["token"]))).json()[
        "byKey"
    ] == body["byKey"]
    foreign = await client.get(
        "/api/usage/stats",
        params={"keyId": second["key_id"]},
        headers=bearer(holder["owner_token"]),
    )
    assert foreign.json()["totals"]["requests"] == 0 and foreign.json()["byKey"] == []
    bad = await client.get(
        "/api/usage/stats", params={"keyId": "nope"}, headers=bearer(holder["owner_token"])
    )
    assert bad.status_code == 422
    await settle(client, holder, open_hold, outputTokens=0)
