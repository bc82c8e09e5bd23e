"""Answers whose replica died are ended by another replica, once, from what the resume log
kept; a live replica's answers are never touched.

Real Redis (a database of these tests' own, so the stack's replicas do not recover these
streams too) and MongoDB; accounting is a fake that counts settlements.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest_asyncio
import redis.asyncio as redis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from chat.config import ModelConfig
from chat.fanout import FanOut
from chat.limits.token_limit import KeyTokenLimiter
from chat.observation.hub import ObserverHub
from chat.providers.base import Turn, Usage
from chat.streaming.events import StreamEvent
from chat.streaming.production.producer import AnswerProducer
from chat.streaming.production.request import StreamRequest
from chat.streaming.recovery import Recovery
from chat.streaming.recovery.heartbeat import ReplicaHeartbeat
from chat.streaming.resources import Dependencies
from chat.streaming.resume_log.batcher import LogBatcher
from chat.streaming.resume_log.keys import claim_key, info_key, live_key, replica_key
from chat.streaming.resume_log.stream_log import StreamLog
from infra_fixtures.isolation import worker_index
from infra_fixtures.sources import with_path

PROMPT_TOKENS = 7


@dataclass
class FakeAccounting:
    finalized: list[dict[str, Any]] = field(default_factory=list)

    async def finalize(
        self, *, streaming_session_id: str, input_tokens: int, output_tokens: int, success: bool
    ) -> Decimal | None:
        self.finalized.append(
            {
                "streaming_session_id": streaming_session_id,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "success": success,
            }
        )
        await asyncio.sleep(0.05)  # a round trip: room for a racing recoverer
        return Decimal("0.01")


@pytest_asyncio.fixture(loop_scope="session")
async def redis_own(redis_url: str) -> AsyncIterator[str]:
    """A Redis database no replica of the stack scans (they share ``redis_url``'s, 1 + the
    worker's index; the Redis restart tests take 10 + it)."""
    url = with_path(redis_url, str(15 - worker_index()))
    client = redis.Redis.from_url(url)
    await client.flushdb()
    yield url
    await client.flushdb()
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def client(redis_own: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_own)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_url: str, mongo_database_name: str) -> AsyncIterator[AsyncDatabase]:
    mongo = AsyncMongoClient(mongo_url, tz_aware=True)
    database = mongo[f"{mongo_database_name}-recovery-{uuid.uuid4().hex[:6]}"]
    yield database
    await mongo.drop_database(database.name)
    await mongo.close()


@dataclass
class Replica:
    deps: Dependencies
    recovery: Recovery
    observed: asyncio.Queue[StreamEvent]


@pytest_asyncio.fixture(loop_scope="session")
async def replicas(
    redis_own: str, client: redis.Redis, db: AsyncDatabase
) -> AsyncIterator[tuple[list[Replica], FakeAccounting]]:
    """Two live replicas sharing one (fake) accounting."""
    accounting = FakeAccounting()
    made: list[Replica] = []
    for _ in range(2):
        batcher = LogBatcher(redis_own, interval=0, resume_window=60, max_lifetime=60)
        batcher.start()
        deps = Dependencies(
            db=db,
            hub=FanOut(),
            observers=ObserverHub(client),
            log=StreamLog(client),
            batcher=batcher,
            accounting=accounting,  # type: ignore[arg-type]
            grace_seconds=2,
            max_seconds=60,
            key_tokens=KeyTokenLimiter(client),
        )
        await client.set(replica_key(deps.replica_id), "1", ex=60)
        made.append(Replica(deps, Recovery(deps, client, interval=1), asyncio.Queue()))
    yield made, accounting
    for replica in made:
        await replica.deps.batcher.stop()


def answer_events(streaming_session_id: str, chunks: int) -> list[StreamEvent]:
    model = StreamEvent(
        streaming_session_id,
        1,
        "model",
        {"modelId": "m", "streamingSessionId": streaming_session_id},
    )
    return [model] + [
        StreamEvent(streaming_session_id, n + 1, "chunk", {"content": f"w{n} ", "tokenCount": n})
        for n in range(1, chunks + 1)
    ]


async def listed_stream(
    redis_own: str, replica_id: str, *, chunks: int = 5, session_id: str | None = None
) -> tuple[str, str]:
    """A live stream of ``replica_id`` in Redis as its producer leaves it: listed, its first
    events logged, no end. Returns (stream id, session id)."""
    streaming_session_id, session_id = str(uuid.uuid4()), session_id or str(uuid.uuid4())
    batcher = LogBatcher(redis_own, interval=0, resume_window=60, max_lifetime=60)
    batcher.start()
    try:
        pending = batcher.open(streaming_session_id, session_id)
        pending.begin(
            {
                "sessionId": session_id,
                "userId": "user-1",
                "modelId": "m",
                "username": "someone",
                "streamingSessionId": streaming_session_id,
                "startedAt": 1.0,
                "replica": replica_id,
                "promptTokens": PROMPT_TOKENS,
            }
        )
        for event in answer_events(streaming_session_id, chunks):
            pending.add(event)
        await asyncio.wait_for(pending.flushed(), 5)
    finally:
        await batcher.stop()
    return streaming_session_id, session_id


async def answers(db: AsyncDatabase, streaming_session_id: str) -> list[dict[str, Any]]:
    cursor = db.messages.find({"streamingSessionId": streaming_session_id, "role": "assistant"})
    return [doc async for doc in cursor]


async def test_a_dead_replicas_answer_is_stored_billed_and_ended_once_by_racing_recoverers(
    replicas, client, db, redis_own
):
    (a, b), accounting = replicas
    streaming_session_id, session_id = await listed_stream(
        redis_own, "dead-" + uuid.uuid4().hex, chunks=5
    )
    observers = [r.deps.observers.open(session_id) for r in (a, b)]

    # Both replicas scan at the same moments; the first look only notes the missing key.
    assert await asyncio.gather(a.recovery.scan(), b.recovery.scan()) == [[], []]
    assert accounting.finalized == []
    ended = await asyncio.gather(a.recovery.scan(), b.recovery.scan())
    assert sorted(ended) == [[], [streaming_session_id]]
    # Later looks find nothing left to do.
    assert await asyncio.gather(a.recovery.scan(), b.recovery.scan()) == [[], []]

    assert accounting.finalized == [
        {
            "streaming_session_id": streaming_session_id,
            "input_tokens": 7,
            "output_tokens": 5,
            "success": False,
        }
    ]
    [stored] = await answers(db, streaming_session_id)
    assert stored["status"] == "lost"
    assert stored["content"] == "w1 w2 w3 w4 w5 "
    assert stored["tokens"] == {"input": 7, "output": 5}
    assert stored["usage"]["event"]["outputTokens"] == 5

    log = StreamLog(client)
    events = await log.replay(streaming_session_id)
    assert [e.seq for e in events] == list(range(1, 8))
    end = events[-1]
    assert (end.event, end.data["code"]) == ("error", "answer_lost")
    assert await log.active() == [] and await log.listed() == []
    assert not await client.exists(info_key(streaming_session_id), live_key(session_id))
    # The recovering replica's own observers get the end at once (others through pub/sub).
    recovered_by = a if ended[0] else b
    queue = observers[0] if recovered_by is a else observers[1]
    assert queue.get_nowait() == end


async def test_an_answer_stored_before_its_replica_died_is_not_stored_or_billed_again(
    replicas, client, db, redis_own
):
    (a, _), accounting = replicas
    streaming_session_id, session_id = await listed_stream(
        redis_own, "dead-" + uuid.uuid4().hex, chunks=3
    )
    # Its producer stored and settled it, then died before its `complete` reached Redis.
    await db.messages.insert_one(
        {
            "_id": "stored-answer",
            "sessionId": session_id,
            "userId": "user-1",
            "role": "assistant",
            "content": "w1 w2 w3 ",
            "status": "complete",
            "streamingSessionId": streaming_session_id,
            "tokens": {"input": 7, "output": 3},
            "creditsUsed": 0.01,
            "createdAt": datetime.now(UTC),
        }
    )
    await a.recovery.scan()
    assert await a.recovery.scan() == [streaming_session_id]
    assert accounting.finalized == []
    assert len(await answers(db, streaming_session_id)) == 1
    end = (await StreamLog(client).replay(streaming_session_id))[-1]
    assert (end.seq, end.event) == (5, "complete")
    assert end.data["messageId"] == "stored-answer" and end.data["tokensUsed"] == 10


async def test_a_live_replicas_answers_are_never_touched_and_leave_the_list_when_it_dies(
    replicas, client, db, redis_own
):
    (a, b), accounting = replicas
    replica_id = "alive-" + uuid.uuid4().hex
    heartbeat = ReplicaHeartbeat(client, replica_id, ttl=1, every=0.2)
    await heartbeat.beat()
    heartbeat.start()
    log = StreamLog(client)
    try:
        streaming_session_id, _ = await listed_stream(redis_own, replica_id)
        for _ in range(4):
            assert await asyncio.gather(a.recovery.scan(), b.recovery.scan()) == [[], []]
            await asyncio.sleep(0.3)  # over a refresh of the key, and more
        assert [s["streamingSessionId"] for s in await log.active()] == [streaming_session_id]
    finally:
        await heartbeat.stop()  # forgets the key: the replica is gone at once
    assert accounting.finalized == []
    assert await answers(db, streaming_session_id) == []
    assert [e.event for e in await log.replay(streaming_session_id)] == ["model"] + ["chunk"] * 5
    # Off the list before anyone has recovered it; still listed for recovery.
    assert await log.active() == []
    assert [s.streaming_session_id for s in await log.listed()] == [streaming_session_id]
    await a.recovery.scan()
    assert await a.recovery.scan() == [streaming_session_id]


async def test_a_replica_key_missing_on_one_look_only_is_not_a_death(replicas, client, redis_own):
    (a, _), accounting = replicas
    replica_id = "restarting-" + uuid.uuid4().hex
    streaming_session_id, _ = await listed_stream(redis_own, replica_id)
    assert await a.recovery.scan() == []  # missing (say Redis restarted and lost it)
    await client.set(replica_key(replica_id), "1", ex=60)  # refreshed before the next look
    assert await a.recovery.scan() == []
    await client.delete(replica_key(replica_id))
    assert await a.recovery.scan() == []  # missing again: a first look again
    assert accounting.finalized == []
    assert await a.recovery.scan() == [streaming_session_id]


async def test_a_replica_never_ends_its_own_answers(replicas, client, redis_own):
    (a, _), accounting = replicas
    streaming_session_id, _ = await listed_stream(redis_own, a.deps.replica_id)
    await client.delete(replica_key(a.deps.replica_id))  # Redis lost it; `a` runs on
    for _ in range(3):
        assert await a.recovery.scan() == []
    assert accounting.finalized == []
    assert streaming_session_id in {
        s.streaming_session_id for s in await StreamLog(client).listed()
    }


def hello_request() -> StreamRequest:
    return StreamRequest(
        streaming_session_id=str(uuid.uuid4()),
        session_id=str(uuid.uuid4()),
        user_id="u",
        username="user",
        model=ModelConfig(id="m", provider="openai", display_name="M"),
        turns=[Turn("user", "hello")],
        max_tokens=16,
    )


class TwoWords:
    """A provider that answers "a b" and reports its usage."""

    async def stream(self, model, turns, max_tokens, system=None):
        for piece in ("a ", "b "):
            yield piece
        yield Usage(input_tokens=3, output_tokens=2)


async def test_a_producer_whose_answer_another_replica_ended_stores_and_bills_nothing(
    replicas, client, db
):
    """Cut off from Redis for longer than its replica key lives, a producer is taken for dead
    and its answer ended by another replica; when it then reaches the end itself, it must
    not store or settle the answer a second time."""
    (a, b), accounting = replicas
    request = hello_request()
    await client.set(claim_key(request.streaming_session_id), b.deps.replica_id, ex=30)
    queue = a.deps.hub.subscribe(request.streaming_session_id)
    producer = AnswerProducer(request, TwoWords(), a.deps)
    producer.attach()

    await producer.run()

    assert accounting.finalized == []
    assert await answers(db, request.streaming_session_id) == []
    events = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [e.event for e in events] == ["model", "chunk", "chunk", "error"]
    assert events[-1].data["code"] == "answer_lost"


async def test_a_producer_that_owns_its_end_takes_the_claim_and_settles(replicas, client, db):
    (a, _), accounting = replicas
    request = hello_request()
    producer = AnswerProducer(request, TwoWords(), a.deps)
    producer.attach()

    await producer.run()

    assert accounting.finalized == [
        {
            "streaming_session_id": request.streaming_session_id,
            "input_tokens": 3,
            "output_tokens": 2,
            "success": True,
        }
    ]
    assert (await client.get(claim_key(request.streaming_session_id))).decode() == a.deps.replica_id
    [stored] = await answers(db, request.streaming_session_id)
    assert stored["status"] == "complete"
