"""Claiming a key in MongoDB, waiting on one another request holds, and keeping its response."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from chat.idempotency import repository
from chat.idempotency.records import KeyRecord
from idempotency import IN_PROGRESS_WAIT, KEY_TTL, IdempotentRequest, StoredResponse
from idempotency.store import key_in_progress, key_reused

log = logging.getLogger(__name__)

# How long a holder may take before recording anything (an answer: reserving its credits).
LEASE = timedelta(seconds=30)
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: it does the work, named ``work_id``."""

    caller: str
    key: str
    claim: str
    work_id: str
    claimed_at: datetime  # when the key was first claimed, the same for a taker-over


@dataclass(frozen=True)
class Answering:
    """The key started an answer already: follow that one (what it was named, and when)."""

    streaming_session_id: str
    work_id: str
    claimed_at: datetime


@dataclass
class KeyStore:
    db: repository.Database
    wait: timedelta = IN_PROGRESS_WAIT
    lease: timedelta = LEASE

    async def claim(
        self, caller: str, request: IdempotentRequest
    ) -> Claimed | StoredResponse | Answering:
        """Hold the key, or what it got (a response, or the answer it started). Raises 422
        ``idempotency_key_reused`` for another body or route, 409
        ``idempotency_key_in_progress`` when its holder records nothing within ``wait``."""
        deadline = asyncio.get_running_loop().time() + self.wait.total_seconds()
        while True:
            now = repository.now()
            mine = KeyRecord(
                caller=caller,
                key=request.key,
                route=request.route,
                request_sha256=request.body_sha256,
                claim=str(uuid.uuid4()),
                work_id=str(uuid.uuid4()),
                lease_until=now + self.lease,
                created_at=now,
                expires_at=now + KEY_TTL,
            )
            if await repository.insert(self.db, mine) or await repository.replace_expired(
                self.db, mine
            ):
                return Claimed(caller, request.key, mine.claim, mine.work_id, mine.created_at)
            kept = await repository.live(self.db, caller, request.key)
            if kept is None:  # expired between the two: claim it again
                continue
            if (kept.route, kept.request_sha256) != (request.route, request.body_sha256):
                raise key_reused()
            if kept.status_code is not None and kept.body is not None:
                return StoredResponse(kept.status_code, kept.body, kept.content_type or "")
            if kept.streaming_session_id is not None:
                return Answering(kept.streaming_session_id, kept.work_id, kept.created_at)
            taken = await repository.take_over(
                self.db, caller, request.key, mine.claim, now + self.lease
            )
            if taken is not None:
                return Claimed(caller, request.key, mine.claim, taken.work_id, taken.created_at)
            if asyncio.get_running_loop().time() >= deadline:
                raise key_in_progress()
            await asyncio.sleep(POLL_SECONDS)

    async def note_answer(self, claimed: Claimed, streaming_session_id: str) -> None:
        """The answer the key starts, before it generates anything: retries attach to it."""
        if not await repository.note_answer(
            self.db, claimed.caller, claimed.key, claimed.claim, streaming_session_id
        ):
            raise key_in_progress()  # its lease lapsed and another request took the key over

    async def record(self, caller: str, key: str, response: StoredResponse) -> None:
        await repository.record_response(
            self.db, caller, key, response.status_code, response.body, response.content_type
        )

    @asynccontextmanager
    async def given_up_if_refused(self, claimed: Claimed | None) -> AsyncIterator[None]:
        """Around what a request holding the key does before its work is named (an answer's
        :meth:`note_answer`): should it be refused, the key is given up, so a retry runs
        again."""
        try:
            yield
        except BaseException:
            if claimed is not None:
                await self.release(claimed)
            raise

    async def release(self, claimed: Claimed) -> None:
        """Give the key up after a refusal. Should MongoDB fail now, the claim lapses with its
        lease instead."""
        try:
            await repository.release(self.db, claimed.caller, claimed.key, claimed.claim)
        except PyMongoError as exc:
            log.warning("an idempotency key was not given up", extra={"error": repr(exc)})


@dataclass(frozen=True)
class Keyed:
    """A request sent with a key, and the store that keeps it."""

    keys: KeyStore
    request: IdempotentRequest

    @classmethod
    def of(cls, keys: KeyStore, request: IdempotentRequest | None) -> "Keyed | None":
        return None if request is None else cls(keys, request)
