"""`credits.low`: announced once each time an account drops below the threshold."""

from uuid import UUID

import asyncpg

from accounting.accounts import repository
from accounting.credits.amounts import json_credits
from bus_events import CreditsLow, event_of
from event_bus import OutboxRelay, enqueue


class LowCreditsNotifier:
    def __init__(self, pool: asyncpg.Pool, relay: OutboxRelay, threshold_micro: int) -> None:
        self._pool = pool
        self._relay = relay
        self._threshold = threshold_micro

    async def check(self, account_id: UUID, owner_id: str, available_micro: int) -> None:
        """Call after spending; cheap when the account is above the threshold."""
        if available_micro >= self._threshold:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            flipped = await repository.mark_low_notified(conn, account_id, self._threshold)
            if flipped is None:
                return
            low = CreditsLow(
                user_id=owner_id,
                account_id=account_id,
                available_credits=json_credits(flipped),
            )
            await enqueue(conn, event_of(low))
        self._relay.wake()
