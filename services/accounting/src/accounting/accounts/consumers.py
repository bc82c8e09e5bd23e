"""`user.registered` from auth: every new user gets an account (and the starting grant)."""

from dataclasses import dataclass

import asyncpg

from accounting import metrics
from accounting.accounts.service import AccountsService
from event_bus import Event, PermanentEventError, claim_event

CONSUMER = "accounting.user-registered"


@dataclass
class UserRegisteredHandler:
    pool: asyncpg.Pool
    accounts: AccountsService

    async def __call__(self, event: Event) -> None:
        user_id, username = event.body.get("userId"), event.body.get("username")
        if not isinstance(user_id, str) or not user_id or not isinstance(username, str):
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise PermanentEventError("user.registered without userId and username")
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            await self.accounts.ensure_user_account(conn, user_id, username)
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()
