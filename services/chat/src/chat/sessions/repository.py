"""Every MongoDB query on chat sessions and messages.

An assistant message and the usage record it owes accounting are one document (``usage``
plus the ``usagePending`` flag the relay looks for), so an answer is never stored without
its charge, nor charged without being stored: one document write, no transaction needed.

Reads return the typed records of ``chat.sessions.records``. ``UsageOutbox`` is those usage
records as the outbox that ``event_bus``'s relay publishes.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from chat.sessions.records import MessageRecord, PendingUsage, SessionRecord

Document = dict[str, Any]
Database = AsyncDatabase[Document]


def now() -> datetime:
    return datetime.now(UTC)


async def ping(db: Database) -> None:
    """Raises when MongoDB does not answer (the readiness check)."""
    await db.command("ping")


async def create_indexes(db: Database) -> None:
    await db.sessions.create_index(
        [("userId", ASCENDING), ("deletedAt", ASCENDING), ("updatedAt", DESCENDING)]
    )
    await db.messages.create_index([("sessionId", ASCENDING), ("createdAt", ASCENDING)])
    await db.messages.create_index([("usagePending", ASCENDING)], sparse=True)


async def insert_session(db: Database, session: SessionRecord) -> None:
    await db.sessions.insert_one(session.to_document())


async def insert_session_once(db: Database, session: SessionRecord) -> SessionRecord | None:
    """Insert the session, or, when one has its id already (the first try of the same
    Idempotency-Key made it), the one stored: its own, or None when it is another user's."""
    try:
        await db.sessions.insert_one(session.to_document())
    except DuplicateKeyError:
        doc = await db.sessions.find_one({"_id": session.id, "userId": session.user_id})
        return None if doc is None else SessionRecord.model_validate(doc)
    return session


async def insert_message_once(db: Database, message: MessageRecord) -> None:
    """Insert the message unless one has its id already."""
    try:
        await db.messages.insert_one(message.to_document())
    except DuplicateKeyError:
        pass


async def find_session(db: Database, session_id: str) -> SessionRecord | None:
    """A session that is not deleted."""
    doc = await db.sessions.find_one({"_id": session_id, "deletedAt": None})
    return None if doc is None else SessionRecord.model_validate(doc)


async def list_sessions(
    db: Database, user_id: str, *, skip: int, limit: int
) -> tuple[list[SessionRecord], int]:
    """A page of the user's live sessions, most recently used first, and how many there are."""
    query = {"userId": user_id, "deletedAt": None}
    total = await db.sessions.count_documents(query)
    cursor = db.sessions.find(query).sort("updatedAt", DESCENDING).skip(skip).limit(limit)
    return [SessionRecord.model_validate(doc) async for doc in cursor], total


async def soft_delete_session(db: Database, session_id: str) -> bool:
    # Soft: the messages keep their usage records until the relay has published them.
    result = await db.sessions.update_one(
        {"_id": session_id, "deletedAt": None}, {"$set": {"deletedAt": now()}}
    )
    return result.modified_count == 1


async def insert_message_record(db: Database, message: MessageRecord) -> None:
    await db.messages.insert_one(message.to_document())


async def count_messages(db: Database, session_id: str, count: int, at: datetime) -> None:
    """``count`` more messages in the session, the latest at ``at``."""
    await db.sessions.update_one(
        {"_id": session_id}, {"$set": {"updatedAt": at}, "$inc": {"messageCount": count}}
    )


async def note_credits_used(db: Database, message_id: str, credits: float) -> None:
    """What accounting charged for the answer ``message_id``, noted on it once settled."""
    await db.messages.update_one({"_id": message_id}, {"$set": {"creditsUsed": credits}})


async def session_messages(db: Database, session_id: str, limit: int = 1000) -> list[MessageRecord]:
    """The session's messages, oldest first."""
    cursor = db.messages.find({"sessionId": session_id}).sort("createdAt", ASCENDING).limit(limit)
    return [MessageRecord.model_validate(doc) async for doc in cursor]


async def has_stream(
    db: Database, session_id: str, user_id: str, streaming_session_id: str
) -> bool:
    """Whether the answer ``streaming_session_id`` was asked in this session by this user (its
    question is stored under that id); looked up among the session's messages only."""
    found = await db.messages.find_one(
        {"sessionId": session_id, "userId": user_id, "streamingSessionId": streaming_session_id},
        {"_id": 1},
    )
    return found is not None


async def asked_at(
    db: Database, session_id: str, user_id: str, streaming_session_id: str
) -> datetime | None:
    """When the question of the answer ``streaming_session_id`` was stored in this session by
    this user; None when it was not."""
    found = await db.messages.find_one(
        {"sessionId": session_id, "userId": user_id, "streamingSessionId": streaming_session_id},
        {"createdAt": 1},
    )
    return None if found is None else found["createdAt"]  # aware: the client is tz_aware


async def stored_answer_record(
    db: Database, session_id: str, streaming_session_id: str
) -> MessageRecord | None:
    """The assistant message stored for the answer ``streaming_session_id`` of this session,
    if any."""
    doc = await db.messages.find_one(
        {"sessionId": session_id, "streamingSessionId": streaming_session_id, "role": "assistant"}
    )
    return None if doc is None else MessageRecord.model_validate(doc)


async def recent_message_records(db: Database, session_id: str, limit: int) -> list[MessageRecord]:
    """The session's last ``limit`` messages, oldest first."""
    cursor = db.messages.find({"sessionId": session_id}).sort("createdAt", DESCENDING).limit(limit)
    documents = reversed([doc async for doc in cursor])
    return [MessageRecord.model_validate(doc) for doc in documents]


CLAIM_SECONDS = 10.0  # a relay that took records and died: another publishes them after this


async def claim_pending_usage(
    db: Database, limit: int, claimant: str, lease_seconds: float = CLAIM_SECONDS
) -> list[PendingUsage]:
    """Usage records not yet published, oldest first, that no other relay holds, now held by
    ``claimant`` for ``lease_seconds``: replicas (and workers) relaying at once publish each
    record once, and a relay that died lets go of what it held when its lease ends.

    The query names the indexed flag only and the claims are read from what it returns: a
    filter on the claim as well (an ``$or``) makes SecantusDB scan every message."""
    at = now()
    cursor = (
        db.messages.find({"usagePending": True}, {"usage": 1, "usageClaim": 1})
        .sort("createdAt", ASCENDING)
        .limit(limit)
    )
    found = [
        record
        for record in [PendingUsage.model_validate(doc) async for doc in cursor]
        if record.claimable_by(claimant, at)
    ]
    if not found:
        return []
    claim = {
        "$set": {"usageClaim": {"by": claimant, "until": at + timedelta(seconds=lease_seconds)}}
    }
    # Each update's filter is checked again per document as it is written: of two relays racing
    # for a record, the second finds it held and leaves it.
    free = [r.id for r in found if r.usage_claim is None]
    lapsed = [r.id for r in found if r.usage_claim is not None and r.usage_claim.by != claimant]
    taken = len(found) - len(free) - len(lapsed)  # already this relay's
    if free:
        done = await db.messages.update_many(
            {"_id": {"$in": free}, "usageClaim": {"$exists": False}}, claim
        )
        taken += done.modified_count
    if lapsed:
        done = await db.messages.update_many(
            {"_id": {"$in": lapsed}, "usageClaim.until": {"$lt": at}}, claim
        )
        taken += done.modified_count
    if taken == len(found):
        return found
    held = db.messages.find(
        {"_id": {"$in": [r.id for r in found]}, "usageClaim.by": claimant}, {"_id": 1}
    )
    mine = {doc["_id"] async for doc in held}
    return [record for record in found if record.id in mine]


async def count_pending_usage(db: Database) -> int:
    return await db.messages.count_documents({"usagePending": True})


async def mark_usage_published(db: Database, message_ids: list[str]) -> None:
    await db.messages.update_many(
        {"_id": {"$in": message_ids}},
        {"$unset": {"usagePending": "", "usageClaim": ""}, "$set": {"usage.publishedAt": now()}},
    )


class PendingUsageBatch:
    """Usage records taken for publishing, oldest first."""

    def __init__(self, db: Database, records: list[PendingUsage]) -> None:
        self._db = db
        self._ids = [record.id for record in records]
        self.events = [record.usage.event for record in records]

    async def mark_published(self, positions: Sequence[int]) -> None:
        await mark_usage_published(self._db, [self._ids[p] for p in positions])

    async def mark_failed(self, position: int, error: str) -> None:
        """Nothing to note: the record stays pending and the next batch takes it again."""


class UsageOutbox:
    """The answers' usage records as an outbox (``event_bus.relay.Outbox``). Each batch is
    claimed for ``claimant`` (a lease): replicas relaying at once publish a record once. A
    record can still go twice (a crash between the broker's confirm and the mark, or a lease
    that ended mid-publish), and accounting applies an ``eventId`` once."""

    def __init__(self, db: Database, claimant: str, lease_seconds: float = CLAIM_SECONDS) -> None:
        self._db = db
        self._claimant = claimant
        self._lease = lease_seconds

    @asynccontextmanager
    async def batch(self, limit: int) -> AsyncIterator[PendingUsageBatch]:
        records = await claim_pending_usage(self._db, limit, self._claimant, self._lease)
        yield PendingUsageBatch(self._db, records)

    async def count_pending(self) -> int:
        return await count_pending_usage(self._db)

    def is_outage(self, error: Exception) -> bool:
        return isinstance(error, PyMongoError | OSError)
