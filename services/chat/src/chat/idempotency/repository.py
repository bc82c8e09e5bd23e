"""Every MongoDB query on idempotency keys."""

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat.idempotency.records import KeyRecord

Database = AsyncDatabase[dict[str, Any]]


def now() -> datetime:
    return datetime.now(UTC)


async def create_indexes(db: Database) -> None:
    await db.idempotency_keys.create_index([("caller", ASCENDING), ("key", ASCENDING)], unique=True)
    # MongoDB deletes a document some time after its expiresAt; reads skip it from then on.
    await db.idempotency_keys.create_index([("expiresAt", ASCENDING)], expireAfterSeconds=0)


def _of(caller: str, key: str) -> dict[str, Any]:
    return {"caller": caller, "key": key}


async def insert(db: Database, record: KeyRecord) -> bool:
    """Claim a key nobody holds; False when someone does (or did, and it has not expired from
    the collection yet)."""
    try:
        await db.idempotency_keys.insert_one(record.to_document())
    except DuplicateKeyError:
        return False
    return True


async def replace_expired(db: Database, record: KeyRecord) -> bool:
    """Claim a key whose document has expired but is still there."""
    replaced = await db.idempotency_keys.find_one_and_replace(
        {**_of(record.caller, record.key), "expiresAt": {"$lte": now()}}, record.to_document()
    )
    return replaced is not None


async def live(db: Database, caller: str, key: str) -> KeyRecord | None:
    found = await db.idempotency_keys.find_one({**_of(caller, key), "expiresAt": {"$gt": now()}})
    return None if found is None else KeyRecord.model_validate(found)


async def take_over(
    db: Database, caller: str, key: str, claim: str, lease_until: datetime
) -> KeyRecord | None:
    """Hold a key whose holder's lease lapsed with nothing recorded (it died); its workId
    stays. A key that started an answer is never taken over: retries attach to the answer."""
    taken = await db.idempotency_keys.find_one_and_update(
        {
            **_of(caller, key),
            "expiresAt": {"$gt": now()},
            "leaseUntil": {"$lte": now()},
            "statusCode": None,
            "streamingSessionId": None,
        },
        {"$set": {"claim": claim, "leaseUntil": lease_until}},
        return_document=ReturnDocument.AFTER,
    )
    return None if taken is None else KeyRecord.model_validate(taken)


async def note_answer(
    db: Database, caller: str, key: str, claim: str, streaming_session_id: str
) -> bool:
    noted = await db.idempotency_keys.update_one(
        {**_of(caller, key), "claim": claim},
        {"$set": {"streamingSessionId": streaming_session_id}},
    )
    return noted.modified_count == 1


async def record_response(
    db: Database, caller: str, key: str, status_code: int, body: bytes, content_type: str
) -> None:
    """Keep the key's response, once: a later record of the same answer changes nothing."""
    await db.idempotency_keys.update_one(
        {**_of(caller, key), "statusCode": None},
        {"$set": {"statusCode": status_code, "body": body, "contentType": content_type}},
    )


async def release(db: Database, caller: str, key: str, claim: str) -> None:
    """Give up a key that did nothing (its request was refused), so a retry runs again."""
    await db.idempotency_keys.delete_one(
        {**_of(caller, key), "claim": claim, "statusCode": None, "streamingSessionId": None}
    )
