"""`usage.recorded` from chat: settle the reservation it names, or charge directly."""

import logging
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from accounting import metrics
from accounting.accounts import repository as accounts
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.service import AccountsService
from accounting.database import Connection
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from accounting.reservations import repository as reservations
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

    async def __call__(self, event: Event) -> None:
        try:
            usage = body_of(event, UsageRecorded)
        except PermanentEventError:
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise
        streaming_session_id = usage.streaming_session_id
        if streaming_session_id is not None and await self._already_settled(
            streaming_session_id, usage.user_id
        ):
            # The usual case: chat settled it over HTTP before this event arrived. Nothing to
            # apply, so nothing to claim or commit (a redelivery finds the same).
            metrics.EVENTS_PROCESSED.labels(event.type, "already_settled").inc()
            log.info(
                "usage event for a reservation already settled; nothing to apply",
                extra={
                    "streamingSessionId": str(streaming_session_id),
                    "eventId": str(event.event_id),
                },
            )
            return
        cost = self.prices.cost_micro(
            usage.model_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            byok=usage.byok,
        )
        charged: tuple[UUID, int] | None = None
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            if streaming_session_id is not None:
                await self._settle(conn, streaming_session_id, usage, cost, event)
            else:
                charged = await self._charge(conn, usage, cost, event)
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()
        metrics.CONSUMER_LAG.labels(event.type).observe(
            max(0.0, time.time() - event.occurred_at.timestamp())
        )
        if charged is not None:  # a settlement only gives credits back: never below before
            account_id, available_micro = charged
            await self.low_credits.check(account_id, usage.user_id, available_micro)

    async def _already_settled(self, streaming_session_id: UUID, user_id: str) -> bool:
        """The user's reservation is no longer held (settled, aborted or expired): settling it
        again changes nothing. Read without a transaction; a status never goes back to held."""
        async with self.pool.acquire() as conn:
            reservation = await reservations.by_id(conn, streaming_session_id)
        return (
            reservation is not None
            and reservation.user_id == user_id
            and reservation.status != "held"
        )

    async def _settle(
        self,
        conn: Connection,
        streaming_session_id: UUID,
        usage: UsageRecorded,
        cost: int,
        event: Event,
    ) -> None:
        reservation = await reservations.by_id(conn, streaming_session_id)
        if reservation is None or reservation.user_id != usage.user_id:
            raise PermanentEventError(
                f"usage.recorded names reservation {streaming_session_id}, "
                f"which user {usage.user_id} does not have"
            )
        if reservation.byok != usage.byok:  # the reservation's word stands, as over HTTP
            cost = self.prices.cost_micro(
                usage.model_id,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                byok=reservation.byok,
            )
        settlement = await ledger.settle(
            conn,
            streaming_session_id=streaming_session_id,
            charge_micro=cost,
            status="settled",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            service=usage.service,
            operation=usage.operation,
            event_id=event.event_id,
        )
        if settlement is None:  # the row was read above, in this transaction
            raise RuntimeError(f"reservation {streaming_session_id} vanished while settling")
        record_settlement(settlement)
        if not settlement.applied:
            log.info(
                "reservation already settled; usage event changes nothing",
                extra={
                    "streamingSessionId": str(streaming_session_id),
                    "eventId": str(event.event_id),
                },
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
