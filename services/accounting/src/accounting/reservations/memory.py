"""What this process knows of the reservations it made and settled, so that an answer's
finalize and its ``usage.recorded`` event need not read the reservation back.

Two facts are safe to remember without a database: what a reservation is for (its account,
user, model and BYOK mark never change once it is made), and that it has ended (a status
never goes back to held). So a finalize of a reservation made here takes no read before its
settlement, and the usage event of an answer settled here finds it ended without a round
trip. Whatever is not remembered (another replica made it, the process restarted, an entry
was evicted) is read from PostgreSQL as before: the memory only saves reads, it never
decides anything the database would decide otherwise.
"""

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

K = TypeVar("K")
V = TypeVar("V")

# Entries kept of each kind: far more than the answers one process has open at a time, or
# settled and not yet heard of on the bus; beyond that the oldest is read again if asked.
MEMORY_SIZE = 50_000


@dataclass(frozen=True)
class ReservationFacts:
    """What never changes about a reservation once it is made."""

    account_id: UUID
    user_id: str
    model_id: str
    byok: bool


class ReservationMemory:
    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self._size = size
        self._made: OrderedDict[UUID, ReservationFacts] = OrderedDict()
        self._ended: OrderedDict[UUID, str] = OrderedDict()  # streaming session -> its user
        self._settling: dict[UUID, asyncio.Event] = {}

    def made(self, streaming_session_id: UUID, facts: ReservationFacts) -> None:
        """A reservation this process has just made (committed)."""
        _put(self._made, streaming_session_id, facts, self._size)

    def facts(self, streaming_session_id: UUID) -> ReservationFacts | None:
        return self._made.get(streaming_session_id)

    def ended(self, streaming_session_id: UUID, user_id: str) -> None:
        """The reservation is no longer held (a settlement here returned its ending)."""
        self._made.pop(streaming_session_id, None)
        _put(self._ended, streaming_session_id, user_id, self._size)

    @asynccontextmanager
    async def settling(self, streaming_session_id: UUID) -> AsyncIterator[None]:
        """Marks a settlement in progress here, for ``has_ended`` to wait on."""
        done = self._settling.setdefault(streaming_session_id, asyncio.Event())
        try:
            yield
        finally:
            if self._settling.get(streaming_session_id) is done:
                del self._settling[streaming_session_id]
            done.set()

    async def has_ended(self, streaming_session_id: UUID, user_id: str) -> bool:
        """Known here to be the user's and no longer held; waits for a settlement of it in
        progress here first (the answer's finalize a moment before its event). False means
        not known: ask the database."""
        in_progress = self._settling.get(streaming_session_id)
        if in_progress is not None:
            await in_progress.wait()
        return self._ended.get(streaming_session_id) == user_id


def _put(entries: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > size:
        entries.popitem(last=False)
