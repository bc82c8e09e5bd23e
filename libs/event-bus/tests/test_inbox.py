import asyncio
import uuid

import pytest

from event_bus import Event, claim_event, new_event

CONSUMER = "test-accounting"


async def test_claim_is_true_once_per_consumer_and_event(db) -> None:
    event_id = uuid.uuid4()
    async with db.acquire() as conn, conn.transaction():
        assert await claim_event(conn, event_id, CONSUMER) is True
    async with db.acquire() as conn, conn.transaction():
        assert await claim_event(conn, event_id, CONSUMER) is False
        assert await claim_event(conn, event_id, "another-consumer") is True


async def test_a_rolled_back_claim_can_be_claimed_again(db) -> None:
    event_id = uuid.uuid4()
    async with db.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                assert await claim_event(conn, event_id, CONSUMER)
                raise RuntimeError("effect failed")
        async with conn.transaction():
            assert await claim_event(conn, event_id, CONSUMER)


async def test_claim_outside_a_transaction_is_refused(db) -> None:
    async with db.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await claim_event(conn, uuid.uuid4(), CONSUMER)


async def test_concurrent_claims_let_exactly_one_through(db) -> None:
    event_id = uuid.uuid4()

    async def claim() -> bool:
        async with db.acquire() as conn, conn.transaction():
            claimed = await claim_event(conn, event_id, CONSUMER)
            await asyncio.sleep(0.05)  # hold the row so the other claim has to wait for us
            return claimed

    assert sorted(await asyncio.gather(claim(), claim(), claim())) == [False, False, True]


async def test_event_delivered_twice_is_applied_once(
    db, consumers, queue_name, publisher, unique_type, eventually
) -> None:
    async with db.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS test_balances (user_id text PRIMARY KEY, credits int)"
        )
        await conn.execute("DELETE FROM test_balances")
        await conn.execute("INSERT INTO test_balances VALUES ('u1', 100)")

    event_type = unique_type("charge")
    deliveries: list[Event] = []

    async def charge(event: Event) -> None:
        async with db.acquire() as conn, conn.transaction():
            if await claim_event(conn, event.event_id, CONSUMER):
                await conn.execute(
                    "UPDATE test_balances SET credits = credits - $1 WHERE user_id = $2",
                    event.body["credits"],
                    event.body["userId"],
                )
        deliveries.append(event)

    await consumers(queue_name("charge"), [event_type], charge)
    event = new_event(event_type, {"userId": "u1", "credits": 7})
    await publisher.publish(event)
    await publisher.publish(event)  # e.g. the outbox relay crashed before marking it sent
    await eventually(lambda: len(deliveries) == 2, what="both deliveries")

    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT credits FROM test_balances WHERE user_id = 'u1'") == 93
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM processed_events WHERE event_id = $1",
                uuid.UUID(event["eventId"]),
            )
            == 1
        )
