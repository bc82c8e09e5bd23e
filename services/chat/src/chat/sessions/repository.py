"""Every MongoDB query on chat sessions and messages.

An assistant message and the usage record it owes accounting are one document (``usage``
plus the ``usagePending`` flag the relay looks for), so an answer is never stored without
its charge, nor charged without being stored: one document write, no transaction needed.
"""

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase


def now() -> datetime:
    return datetime.now(UTC)


async def create_indexes(db: AsyncDatabase) -> None:
    await db.sessions.create_index(
        [("userId", ASCENDING), ("deletedAt", ASCENDING), ("updatedAt", DESCENDING)]
    )
    await db.messages.create_index([("sessionId", ASCENDING), ("createdAt", ASCENDING)])
    await db.messages.create_index([("usagePending", ASCENDING)], sparse=True)


async def insert_session(db: AsyncDatabase, session: dict[str, Any]) -> None:
    await db.sessions.insert_one(session)


async def find_session(db: AsyncDatabase, session_id: str) -> dict[str, Any] | None:
    return await db.sessions.find_one({"_id": session_id, "deletedAt": None})


async def list_sessions(
    db: AsyncDatabase, user_id: str, *, skip: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    query = {"userId": user_id, "deletedAt": None}
    total = await db.sessions.count_documents(query)
    cursor = db.sessions.find(query).sort("updatedAt", DESCENDING).skip(skip).limit(limit)
    return [doc async for doc in cursor], total


async def soft_delete_session(db: AsyncDatabase, session_id: str) -> bool:
    # Soft: the messages keep their usage records until the relay has published them.
    result = await db.sessions.update_one(
        {"_id": session_id, "deletedAt": None}, {"$set": {"deletedAt": now()}}
    )
    return result.modified_count == 1


async def insert_message(db: AsyncDatabase, message: dict[str, Any]) -> None:
    await db.messages.insert_one(message)


async def count_messages(db: AsyncDatabase, session_id: str, count: int, at: datetime) -> None:
    """``count`` more messages in the session, the latest at ``at``."""
    await db.sessions.update_one(
        {"_id": session_id}, {"$set": {"updatedAt": at}, "$inc": {"messageCount": count}}
    )


async def session_messages(
    db: AsyncDatabase, session_id: str, limit: int = 1000
) -> list[dict[str, Any]]:
    cursor = db.messages.find({"sessionId": session_id}).sort("createdAt", ASCENDING).limit(limit)
    return [doc async for doc in cursor]


async def has_stream(db: AsyncDatabase, session_id: str, user_id: str, stream_id: str) -> bool:
    """Whether the answer ``stream_id`` was asked in this session by this user (its question
    is stored under the stream's id); looked up among the session's messages only."""
    found = await db.messages.find_one(
        {"sessionId": session_id, "userId": user_id, "streamingSessionId": stream_id},
        {"_id": 1},
    )
    return found is not None


async def stored_answer(
    db: AsyncDatabase, session_id: str, stream_id: str
) -> dict[str, Any] | None:
    """The assistant message stored for the answer ``stream_id`` of this session, if any."""
    return await db.messages.find_one(
        {"sessionId": session_id, "streamingSessionId": stream_id, "role": "assistant"}
    )


async def recent_messages(db: AsyncDatabase, session_id: str, limit: int) -> list[dict[str, Any]]:
    cursor = db.messages.find({"sessionId": session_id}).sort("createdAt", DESCENDING).limit(limit)
    return list(reversed([doc async for doc in cursor]))


async def pending_usage(db: AsyncDatabase, limit: int) -> list[dict[str, Any]]:
    cursor = (
        db.messages.find({"usagePending": True}, {"usage": 1})
        .sort("createdAt", ASCENDING)
        .limit(limit)
    )
    return [doc async for doc in cursor]


async def mark_usage_published(db: AsyncDatabase, message_ids: list[str]) -> None:
    await db.messages.update_many(
        {"_id": {"$in": message_ids}},
        {"$unset": {"usagePending": ""}, "$set": {"usage.publishedAt": now()}},
    )
