"""`user.registered` from auth: every new user gets an account (and the starting grant)."""

from dataclasses import dataclass

import asyncpg

from accounting import metrics
from accounting.accounts.service import AccountsService
from bus_events import UserRegistered, body_of
from event_bus import Event, PermanentEventError, claim_event

CONSUMER = "accounting.user-registered"


@dataclass
class UserRegisteredHandler:
    pool: asyncpg.Pool
    accounts: AccountsService

    async def __call__(self, event: Event) -> None:
        try:
            user = body_of(event, UserRegistered)
        except PermanentEventError:
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            account = await self.accounts.ensure_user_account(conn, user.user_id, user.username)
        self.accounts.remember_user_account(account)
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()
