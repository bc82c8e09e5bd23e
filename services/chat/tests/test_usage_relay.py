"""The usage relay against real MongoDB: a batch published together, only what the broker
confirmed marked, the rest published on the next run. The broker is a stand-in here (the
RabbitMQ path is in test_bus_outage.py)."""

import asyncio
import uuid

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from chat.sessions import repository
from chat.usage.relay import UsageRelay
from event_bus import PublishFailed, new_event


class FlakyPublisher:
    """Confirms every event except those whose eventId is in ``refuse``."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.published: list[str] = []

    async def connect(self) -> None:
        return None

    async def publish(self, event: dict) -> None:
        if event["eventId"] in self.refuse:
            raise PublishFailed("nacked")
        self.published.append(event["eventId"])


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_url, mongo_database_name):
    client = AsyncMongoClient(mongo_url, tz_aware=True)  # as chat's own client
    database = client[f"{mongo_database_name}-relay-{uuid.uuid4().hex[:6]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


async def store_answers(db, count: int) -> list[dict]:
    events = []
    for i in range(count):
        event = new_event("usage.recorded", {"userId": "u", "inputTokens": i, "outputTokens": 1})
        # Straight into the collection: the relay publishes whatever body it finds.
        await db.messages.insert_one(
            {
                "_id": str(uuid.uuid4()),
                "sessionId": "s",
                "role": "assistant",
                "createdAt": repository.now(),
                "usage": {"event": event},
                "usagePending": True,
            },
        )
        events.append(event)
    return events


async def test_a_batch_is_marked_as_far_as_the_broker_confirmed_it_and_the_rest_goes_next(db):
    events = await store_answers(db, 5)
    publisher = FlakyPublisher()
    publisher.refuse = {events[1]["eventId"], events[3]["eventId"]}
    relay = UsageRelay(db, publisher)

    with pytest.raises(PublishFailed):
        await relay.run_once()
    assert publisher.published == [events[i]["eventId"] for i in (0, 2, 4)]
    assert await relay.pending_count() == 2

    publisher.refuse = set()
    assert await relay.run_once() == 2
    assert await relay.run_once() == 0  # nothing left, nothing sent twice
    assert sorted(publisher.published) == sorted(e["eventId"] for e in events)
    assert await relay.pending_count() == 0
    stored = await db.messages.find({}, {"usage.publishedAt": 1}).to_list()
    assert all(doc["usage"]["publishedAt"] for doc in stored)


class SlowPublisher(FlakyPublisher):
    async def publish(self, event: dict) -> None:
        await asyncio.sleep(0.2)
        await super().publish(event)


async def test_an_answer_stored_while_the_relay_publishes_is_published_by_the_next_run(db):
    publisher = SlowPublisher()
    relay = UsageRelay(db, publisher, poll_interval=30)  # no poll: only wakes can bring it
    relay.start()
    try:
        first = await store_answers(db, 1)
        relay.wake()
        await asyncio.sleep(0.1)  # the relay is publishing the first one
        second = await store_answers(db, 1)
        relay.wake()
        for _ in range(40):
            if len(publisher.published) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
    assert publisher.published == [first[0]["eventId"], second[0]["eventId"]]


async def test_two_replicas_relaying_at_once_publish_each_record_once(db):
    events = await store_answers(db, 6)
    first, second = SlowPublisher(), SlowPublisher()
    relays = [
        UsageRelay(db, first, claimant="replica-a"),
        UsageRelay(db, second, claimant="replica-b"),
    ]

    published = await asyncio.gather(*(relay.run_once() for relay in relays))

    assert sum(published) == 6
    assert sorted(first.published + second.published) == sorted(e["eventId"] for e in events)
    assert await relays[0].pending_count() == 0
    assert await db.messages.count_documents({"usageClaim": {"$exists": True}}) == 0


async def test_records_held_by_a_relay_that_died_are_published_when_its_lease_ends(db):
    events = await store_answers(db, 2)
    # A replica took both and died before publishing: its lease holds them a moment.
    held = await repository.claim_pending_usage(db, 10, "dead-replica", lease_seconds=0.3)
    assert len(held) == 2
    publisher = FlakyPublisher()
    relay = UsageRelay(db, publisher, claimant="replica-b")

    assert await relay.run_once() == 0
    await asyncio.sleep(0.35)
    assert await relay.run_once() == 2
    assert sorted(publisher.published) == sorted(e["eventId"] for e in events)
