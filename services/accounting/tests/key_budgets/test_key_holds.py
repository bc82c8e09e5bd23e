"""A personal key's budget at reservation time: never passed, however many holds race."""

import asyncio
import random
import uuid

import asyncpg

from accounting.ledger.check import find_problems

from ..conftest import balance, funded_user
from .keys import (
    HAIKU,
    HOLD_1000,
    HOLD_1000_MICRO,
    KeySpend,
    account_of,
    key_holder,
    key_spend,
    reserve,
    reserve_in_sql,
    settle,
)


async def test_two_reservations_race_for_the_last_of_a_keys_budget(client, auth, db):
    # A budget of 2 credits has room for one hold of 1.375, not two.
    holder = await key_holder(client, auth, 100, budget=2)
    first, second = await asyncio.gather(reserve(client, holder), reserve(client, holder))
    assert sorted([first.status_code, second.status_code]) == [201, 402]
    refused = (first if first.status_code == 402 else second).json()
    assert refused["code"] == "key_budget_exceeded"
    assert refused["details"] == {
        "keyId": holder["key_id"],
        "budgetCredits": 2,
        "spentCredits": 0,
        "heldCredits": HOLD_1000,
        "askedCredits": HOLD_1000,
    }
    assert await key_spend(db, holder["key_id"]) == KeySpend(0, HOLD_1000_MICRO, 2_000_000)
    # The owner's credits were never short: only the key's budget refused it.
    assert (await balance(client, holder))["availableCredits"] == 100 - HOLD_1000
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_two_transactions_race_for_the_last_of_a_keys_budget(
    client, auth, db, accounting_settings
):
    """Two replicas at once (no batcher between them): the second waits for the first's
    locks and then sees its hold."""
    holder = await key_holder(client, auth, 100, budget=2)
    account_id = await account_of(db, holder)
    first_conn = await asyncpg.connect(accounting_settings.database_url)
    second_conn = await asyncpg.connect(accounting_settings.database_url)
    try:
        open_transaction = first_conn.transaction()
        await open_transaction.start()
        first = await reserve_in_sql(first_conn, holder, account_id, 2_000_000, HOLD_1000_MICRO)
        racing = asyncio.create_task(
            reserve_in_sql(second_conn, holder, account_id, 2_000_000, HOLD_1000_MICRO)
        )
        await asyncio.sleep(0.3)
        assert not racing.done()  # waiting for the account's lock
        await open_transaction.commit()
        second = await racing
    finally:
        await first_conn.close()
        await second_conn.close()
    assert (first["ok"], first["refusal"]) == (True, None)
    assert (second["ok"], second["refusal"]) == (False, "key_budget_exceeded")
    assert (second["key_spent"], second["key_held"]) == (0, HOLD_1000_MICRO)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_20_concurrent_reservations_against_a_budget_for_5(client, auth, db):
    holder = await key_holder(client, auth, 100, budget=5 * HOLD_1000)
    answers = await asyncio.gather(*(reserve(client, holder) for _ in range(20)))
    statuses = [a.status_code for a in answers]
    assert (statuses.count(201), statuses.count(402)) == (5, 15)
    assert {a.json()["code"] for a in answers if a.status_code == 402} == {"key_budget_exceeded"}
    assert await key_spend(db, holder["key_id"]) == KeySpend(
        0, 5 * HOLD_1000_MICRO, 5 * HOLD_1000_MICRO
    )

    held = [a.json()["streamingSessionId"] for a in answers if a.status_code == 201]
    done = await asyncio.gather(*(settle(client, holder, h, actualTokens=1000) for h in held))
    assert [d.json()["usedCredits"] for d in done] == [1.25] * 5  # 1,000 at 1.25/1K
    assert await key_spend(db, holder["key_id"]) == KeySpend(5 * 1_250_000, 0, 5 * HOLD_1000_MICRO)
    after = await balance(client, holder)
    assert (after["totalCredits"], after["reservedCredits"]) == (100 - 5 * 1.25, 0)
    # 0.625 of the budget is left: not a hold of 1.375, but one of 400 tokens (0.55).
    assert (await reserve(client, holder)).json()["code"] == "key_budget_exceeded"
    assert (await reserve(client, holder, tokens=400)).status_code == 201
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_20_transactions_on_8_connections_against_a_budget_for_5(
    client, auth, db, accounting_settings
):
    holder = await key_holder(client, auth, 100, budget=5 * HOLD_1000)
    account_id = await account_of(db, holder)
    # Eight connections racing, not twenty: the test run shares PostgreSQL's 100 connections
    # with every other worker's pools (twenty here ran it out: TooManyConnectionsError).
    pool = await asyncpg.create_pool(accounting_settings.database_url, min_size=8, max_size=8)
    try:
        rows = await asyncio.gather(
            *(
                pool.fetchrow(
                    "SELECT ok, refusal FROM ledger_reserve_for_key(gen_random_uuid(), $1, $2, "
                    "$3, $4, 's', $5, 1000, $6, now() + interval '5 minutes')",
                    account_id,
                    uuid.UUID(holder["key_id"]),
                    5 * HOLD_1000_MICRO,
                    holder["id"],
                    HAIKU,
                    HOLD_1000_MICRO,
                )
                for _ in range(20)
            )
        )
    finally:
        await pool.close()
    assert sum(row["ok"] for row in rows) == 5
    assert {row["refusal"] for row in rows if not row["ok"]} == {"key_budget_exceeded"}
    assert await key_spend(db, holder["key_id"]) == KeySpend(
        0, 5 * HOLD_1000_MICRO, 5 * HOLD_1000_MICRO
    )
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_holds_and_settlements_of_one_key_in_every_order_never_deadlock(
    client, auth, db, accounting_settings
):
    """Transactions that reserve and settle the same key in either order, with the sweeper and
    extensions between them (what batches and replicas do), all lock account, key,
    reservation: none deadlocks, and the key's figures add up."""
    holder = await key_holder(client, auth, 1000, budget=500)
    account_id = await account_of(db, holder)
    pool = await asyncpg.create_pool(accounting_settings.database_url, min_size=6, max_size=6)
    open_holds: list = []
    rng = random.Random(14)

    async def worker() -> None:
        for _ in range(15):
            made = []
            async with pool.acquire() as conn, conn.transaction():
                steps = ["reserve", "settle"]
                rng.shuffle(steps)
                for step in steps:
                    if step == "reserve":
                        row = await reserve_in_sql(
                            conn, holder, account_id, 500_000_000, HOLD_1000_MICRO
                        )
                        assert row["ok"]
                        made.append(row["id"])
                    elif open_holds:
                        applied = await conn.fetchval(
                            "SELECT applied FROM ledger_settle($1, 1000000, 'settled', 0, 800, "
                            "'chat', 'stream', NULL)",
                            open_holds.pop(0),
                        )
                        assert applied
            open_holds.extend(made)  # committed: another transaction may settle them now
            if open_holds:  # an extension locks only the reservation
                await pool.execute(
                    "SELECT ledger_extend($1, now() + interval '1 minute', 0, 100, 125000)",
                    open_holds[-1],
                )
            await pool.execute("SELECT ledger_expire_holds(10)")

    try:
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(6))), timeout=60)
    finally:
        await pool.close()
    spend = await key_spend(db, holder["key_id"])
    assert spend is not None and spend.held_micro == HOLD_1000_MICRO * len(open_holds)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_a_body_cannot_name_a_key_or_a_budget(client, auth, db):
    """The key and its budget come from the verified token only: a body naming them is
    refused (an unknown field), and holds nothing for either key."""
    holder = await key_holder(client, auth, 100, budget=2)
    other = await key_holder(client, auth, 100, budget=100)
    for extra in (
        {"keyId": other["key_id"]},
        {"keyBudgetMicro": 10**12},
        {"maxBudgetCredits": 1000},
    ):
        refused = await reserve(client, holder, **extra)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    assert await key_spend(db, holder["key_id"]) is None
    assert await key_spend(db, other["key_id"]) is None
    # The holder's own token still decides: its key, its budget.
    assert (await reserve(client, holder)).status_code == 201
    assert (await reserve(client, holder)).json()["code"] == "key_budget_exceeded"
    assert await key_spend(db, other["key_id"]) is None


async def test_a_users_own_session_and_a_key_without_budget_are_not_limited(client, auth, db):
    user = await funded_user(client, auth, 10)
    held = (await reserve(client, user)).json()
    key_id = await db.fetchval(
        "SELECT key_id FROM reservations WHERE id = $1", uuid.UUID(held["streamingSessionId"])
    )
    assert key_id is None
    unlimited = await key_holder(client, auth, 10)
    answers = await asyncio.gather(*(reserve(client, unlimited) for _ in range(8)))
    # Only the balance limits it: 7 holds of 1.375 fit in 10.
    assert [a.status_code for a in answers].count(201) == 7
    assert {a.json()["code"] for a in answers if a.status_code == 402} == {"insufficient_credits"}
    assert await key_spend(db, unlimited["key_id"]) == KeySpend(0, 7 * HOLD_1000_MICRO, None)
