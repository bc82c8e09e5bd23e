import asyncio
import uuid

import aio_pika
import orjson
import pytest_asyncio
from prometheus_client import REGISTRY

from accounting.ledger.check import find_problems
from bus_events import UsageRecorded, UserRegistered, event_of
from event_bus import EventPublisher

from ..conftest import balance, eventually, funded_user, on_behalf

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K tokens


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def publisher(rabbitmq_url, bus_namespace, app):
    bus = EventPublisher(rabbitmq_url, bus_namespace.exchange)
    await bus.connect()
    yield bus
    await bus.close()


def usage_event(user, **fields):
    usage = {
        "user_id": user["id"],
        "session_id": "chat-1",
        "model_id": HAIKU,
        "input_tokens": 400,
        "output_tokens": 600,
        "service": "chat",
        "operation": "stream",
    }
    return event_of(UsageRecorded(**{**usage, **fields}))


def already_settled_events() -> float:
    return (
        REGISTRY.get_sample_value(
            "accounting_events_processed_total",
            {"type": "usage.recorded", "outcome": "already_settled"},
        )
        or 0.0
    )


async def hold(client, user) -> dict:
    """A reservation of 1,000 tokens of HAIKU for the user's session chat-1."""
    answer = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "chat-1", "modelId": HAIKU, "estimatedTokens": 1000},
        headers=on_behalf(user),
    )
    return answer.json()


async def settled(db, event_id):
    return await db.fetchval("SELECT count(*) FROM usage_records WHERE event_id = $1", event_id)


async def test_the_same_usage_event_three_times_is_charged_once(client, auth, db, publisher):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    event = usage_event(user, streaming_session_id=held["streamingSessionId"])
    for _ in range(3):
        await publisher.publish(event)
    assert await eventually(lambda: settled(db, uuid.UUID(event["eventId"]))) == 1
    await asyncio.sleep(0.5)  # let the redeliveries arrive
    after = await balance(client, user)
    assert after == {**after, "totalCredits": 9.15, "reservedCredits": 0}
    # A finalize retried after the event changes nothing either.
    again = await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": held["streamingSessionId"], "actualTokens": 5000},
        headers=on_behalf(user),
    )
    assert again.json()["usedCredits"] == 0.85
    assert (await balance(client, user))["totalCredits"] == 9.15
    duplicates = await db.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1", uuid.UUID(event["eventId"])
    )
    assert duplicates == 1


async def test_usage_for_a_reservation_chat_already_settled_writes_nothing(
    client, auth, db, publisher
):
    user = await funded_user(client, auth, 10)
    held = await hold(client, user)
    await client.post(
        "/api/streaming-sessions/finalize",
        json={
            "streamingSessionId": held["streamingSessionId"],
            "inputTokens": 400,
            "outputTokens": 600,
        },
        headers=on_behalf(user),
    )
    before = await balance(client, user)
    seen = already_settled_events()
    event = usage_event(user, streaming_session_id=held["streamingSessionId"])
    await publisher.publish(event)

    async def handled():
        return already_settled_events() > seen

    assert await eventually(handled)
    assert await balance(client, user) == before
    claimed = await db.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1", uuid.UUID(event["eventId"])
    )
    assert claimed == 0  # no transaction was needed to know it changes nothing


async def test_usage_without_a_reservation_is_a_direct_charge(client, auth, db, publisher):
    user = await funded_user(client, auth, 1)
    event = usage_event(user, input_tokens=0, output_tokens=2000)  # 2.5 credits > balance
    await publisher.publish(event)
    await publisher.publish(event)
    assert await eventually(lambda: settled(db, uuid.UUID(event["eventId"]))) == 1
    record = await db.fetchrow(
        "SELECT credits_micro, unpaid_micro FROM usage_records WHERE event_id = $1",
        uuid.UUID(event["eventId"]),
    )
    assert (record["credits_micro"], record["unpaid_micro"]) == (1_000_000, 1_500_000)
    assert (await balance(client, user))["totalCredits"] == 0
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_a_poison_usage_event_goes_to_the_dead_letter_queue(
    client, auth, publisher, rabbitmq_url, accounting_settings
):
    user = await funded_user(client, auth, 1)
    poison = {**usage_event(user), "inputTokens": -5}  # as no producer model would write it
    await publisher.publish(poison)
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.declare_queue(
            f"{accounting_settings.usage_recorded_queue}.dlq", passive=True
        )

        async def dead_lettered():
            while (message := await dlq.get(fail=False)) is not None:
                await message.ack()
                body = orjson.loads(message.body)
                if body["eventId"] == poison["eventId"]:
                    return body
            return None

        found = await eventually(dead_lettered)
    assert found is not None and found["inputTokens"] == -5


async def test_user_registered_twice_creates_one_account(app, db, publisher):
    event = event_of(
        UserRegistered(user_id=str(uuid.uuid4()), username="twice", email="t@e.com", role="enduser")
    )
    await publisher.publish(event)
    await publisher.publish(event)

    async def accounts():
        return await db.fetchval(
            "SELECT count(*) FROM accounts WHERE owner_id = $1", event["userId"]
        )

    assert await eventually(accounts) == 1
    await asyncio.sleep(0.3)
    assert await accounts() == 1


async def test_record_usage_over_http_is_idempotent_with_a_key(client, auth):
    user = await funded_user(client, auth, 10)
    headers = {**on_behalf(user), "Idempotency-Key": "k-1"}
    body = {"service": "tools", "operation": "search", "credits": 2}
    first = await client.post("/api/usage/record", json=body, headers=headers)
    again = await client.post("/api/usage/record", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (await balance(client, user))["totalCredits"] == 8
