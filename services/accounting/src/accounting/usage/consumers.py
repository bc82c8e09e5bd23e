"""`usage.recorded` from chat: settle the reservation it names, or charge directly."""

import logging
import time
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from accounting import metrics
from accounting.accounts import repository as accounts
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.service import AccountsService
from accounting.database import Connection
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from accounting.reservations.memory import ReservationMemory
from accounting.reservations.service import record_settlement
from bus_events import UsageRecorded, body_of
from event_bus import Event, PermanentEventError, claim_event

log = logging.getLogger(__name__)

CONSUMER = "accounting.usage-recorded"


@dataclass
class UsageRecordedHandler:
    pool: asyncpg.Pool
    accounts: AccountsService
    prices: PriceTable
    low_credits: LowCreditsNotifier
    # The reservations service's: what this process settled needs no read back.
    memory: ReservationMemory = field(default_factory=ReservationMemory)

    async def __call__(self, event: Event) -> None:
        try:
            usage = body_of(event, UsageRecorded)
        except PermanentEventError:
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise
        if usage.streaming_session_id is not None:
            await self._settle(usage, usage.streaming_session_id, event)
            return
        cost = self.prices.cost_micro(
            usage.model_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            byok=usage.byok,
        )
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            account_id, available_micro = await self._charge(conn, usage, cost, event)
        self._applied(event)
        # A settlement only gives credits back (never below before); a charge may cross it.
        await self.low_credits.check(account_id, usage.user_id, available_micro)

    async def _settle(self, usage: UsageRecorded, streaming_session_id: UUID, event: Event) -> None:
        """Settle the reservation the event names, once. The usual case: chat settled it over
        HTTP before this event arrived, here, and nothing is read or claimed (a redelivery
        finds the same). Otherwise one statement checks, claims and settles."""
        if await self.memory.has_ended(streaming_session_id, usage.user_id):
            # Kept, not forgotten: a redelivered copy (at least once) finds the same.
            self._already_settled(streaming_session_id, event)
            return
        costs = [
            self.prices.cost_micro(
                usage.model_id,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                byok=byok,
            )
            for byok in (False, True)  # the reservation's own mark picks one, as over HTTP
        ]
        async with self.pool.acquire() as conn:
            done = await ledger.settle_usage(
                conn,
                event_id=event.event_id,
                consumer=CONSUMER,
                streaming_session_id=streaming_session_id,
                user_id=usage.user_id,
                charge_micro=costs[0],
                byok_charge_micro=costs[1],
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                service=usage.service,
                operation=usage.operation,
            )
        if done.outcome == "unknown":
            raise PermanentEventError(
                f"usage.recorded names reservation {streaming_session_id}, "
                f"which user {usage.user_id} does not have"
            )
        if done.outcome == "already_settled":
            self._already_settled(streaming_session_id, event)
            return
        if done.outcome == "duplicate" or done.settlement is None:
            metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
            return
        record_settlement(done.settlement)
        if not done.settlement.applied:
            log.info(
                "reservation already settled; usage event changes nothing",
                extra={
                    "streamingSessionId": str(streaming_session_id),
                    "eventId": str(event.event_id),
                },
            )
        self._applied(event)

    def _already_settled(self, streaming_session_id: UUID, event: Event) -> None:
        metrics.EVENTS_PROCESSED.labels(event.type, "already_settled").inc()
        log.debug(
            "usage event for a reservation already settled; nothing to apply",
            extra={"streamingSessionId": str(streaming_session_id), "eventId": str(event.event_id)},
        )

    def _applied(self, event: Event) -> None:
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()
        metrics.CONSUMER_LAG.labels(event.type).observe(
            max(0.0, time.time() - event.occurred_at.timestamp())
        )

    async def _charge(
        self, conn: Connection, usage: UsageRecorded, cost: int, event: Event
    ) -> tuple[UUID, int]:
        """Charge the account directly; (the account's id, its available micro-credits after)."""
        if usage.account_id is not None:
            account = await accounts.by_id(conn, usage.account_id)
            if account is None:
                raise PermanentEventError(
                    f"usage.recorded names unknown account {usage.account_id}"
                )
        else:
            account = await self.accounts.ensure_user_account(conn, usage.user_id, None)
        result = await ledger.charge(
            conn,
            account_id=account.id,
            amount_micro=cost,
            user_id=usage.user_id,
            service=usage.service,
            operation=usage.operation,
            model_id=usage.model_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            event_id=event.event_id,
            byok=usage.byok,
        )
        if result.unpaid_micro:
            log.warning(
                "usage exceeded the balance; the rest is recorded as unpaid",
                extra={"accountId": str(account.id), "unpaidMicro": result.unpaid_micro},
            )
        return account.id, result.available_micro
