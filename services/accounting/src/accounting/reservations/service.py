"""Reservations: hold credits before a model answers, settle for what it really used."""

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg

from accounting import metrics
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.service import AccountsService
from accounting.config import AccountingSettings
from accounting.credits.amounts import from_micro
from accounting.credits.service import CreditsService, insufficient_credits
from accounting.key_budgets.claims import key_budget_exceeded, spending_key
from accounting.ledger import repository as ledger
from accounting.ledger.batcher import AccountBatcher
from accounting.ledger.repository import HoldRefusal, Settlement
from accounting.pricing.prices import PriceTable
from accounting.reservations import repository
from accounting.reservations.memory import ReservationFacts, ReservationMemory
from accounting.reservations.repository import Reservation
from accounting.reservations.schemas import (
    ActiveReservations,
    ExtendRequest,
    ExtendResponse,
    InitializeRequest,
    InitializeResponse,
    ReservationOut,
    SettleRequest,
    SettleResponse,
)
from background_loops import BackgroundLoop
from jwt_contract import Principal
from service_kit import ApiError, log_failure

log = logging.getLogger(__name__)


# The metric's outcome label for each refusal (dashboards read "insufficient").
_REFUSAL_OUTCOMES: dict[HoldRefusal, str] = {
    "insufficient_credits": "insufficient",
    "key_budget_exceeded": "key_budget",
}


def reservation_not_found() -> ApiError:
    return ApiError(404, "not_found", "Reservation not found")


def usage_cost_micro(
    prices: PriceTable,
    model_id: str,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    actual_tokens: int | None,
    byok: bool = False,
) -> int:
    if actual_tokens is not None:
        return prices.bound_micro(model_id, actual_tokens, byok=byok)
    return prices.cost_micro(
        model_id, input_tokens=input_tokens or 0, output_tokens=output_tokens or 0, byok=byok
    )


def record_settlement(settlement: Settlement) -> None:
    if settlement.applied:
        metrics.CREDITS_CHARGED.inc(float(from_micro(settlement.charged_micro)))
        counter = (
            metrics.CREDITS_EXPIRED if settlement.status == "expired" else metrics.CREDITS_REFUNDED
        )
        counter.inc(float(from_micro(settlement.refunded_micro)))


@dataclass
class ReservationsService:
    pool: asyncpg.Pool
    accounts: AccountsService
    credits: CreditsService
    prices: PriceTable
    low_credits: LowCreditsNotifier
    batcher: AccountBatcher
    settings: AccountingSettings
    memory: ReservationMemory = field(default_factory=ReservationMemory)

    async def initialize(
        self, principal: Principal, request: InitializeRequest
    ) -> InitializeResponse:
        api_key = spending_key(principal)  # from the verified token, never from the body
        account = await self.accounts.spender(principal)
        amount = self.credits.hold_micro(
            request.model_id, request.estimated_tokens, byok=request.byok
        )
        streaming_session_id = uuid.uuid4()
        expires_at = datetime.now(UTC) + timedelta(seconds=self.settings.reservation_ttl_seconds)
        started = time.perf_counter()
        hold = await self.batcher.run(
            account.id,
            partial(
                ledger.reserve,
                streaming_session_id=streaming_session_id,
                account_id=account.id,
                key=api_key,
                user_id=principal.user_id,
                session_id=request.session_id,
                model_id=request.model_id,
                estimated_tokens=request.estimated_tokens,
                amount_micro=amount,
                expires_at=expires_at,
                byok=request.byok,
            ),
        )
        outcome = (
            "reserved" if hold.held else _REFUSAL_OUTCOMES[hold.refusal or "insufficient_credits"]
        )
        metrics.RESERVATION_SECONDS.labels(outcome).observe(time.perf_counter() - started)
        if not hold.held:
            if hold.refusal == "key_budget_exceeded" and api_key is not None:
                raise key_budget_exceeded(
                    api_key,
                    spent_micro=hold.key_spent_micro or 0,
                    held_micro=hold.key_held_micro or 0,
                    asked_micro=amount,
                )
            raise insufficient_credits(hold.available_micro, amount)
        self.memory.made(
            streaming_session_id,
            ReservationFacts(account.id, principal.user_id, request.model_id, request.byok),
        )
        await self.low_credits.check(account.id, account.owner_id, hold.available_micro)
        return InitializeResponse(
            session_id=request.session_id,
            streaming_session_id=streaming_session_id,
            allocated_credits=amount,
            expires_at=expires_at,
        )

    async def settle(
        self, request: SettleRequest, *, abort: bool, user_id: str | None
    ) -> SettleResponse:
        """Finalize (or abort) a reservation with what the calling service measured; repeating
        it changes nothing. ``user_id``, when the service names the user, must own it."""
        streaming_session_id, facts = await self._to_settle(request, user_id)
        cost = usage_cost_micro(
            self.prices,
            facts.model_id,
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
            actual_tokens=request.actual_tokens,
            byok=facts.byok,
        )
        async with self.memory.settling(streaming_session_id):
            settlement = await self.batcher.run(
                facts.account_id,
                partial(
                    ledger.settle,
                    streaming_session_id=streaming_session_id,
                    charge_micro=cost,
                    status="aborted" if abort or not request.success else "settled",
                    input_tokens=request.input_tokens,
                    output_tokens=request.output_tokens
                    if request.actual_tokens is None
                    else request.actual_tokens,
                    service="chat",
                    operation="stream",
                ),
            )
            if settlement is not None:
                self.memory.ended(streaming_session_id, facts.user_id)
        if settlement is None:
            raise reservation_not_found()
        record_settlement(settlement)
        if not settlement.applied:
            log.info(
                "settlement repeated",
                extra={"streamingSessionId": str(streaming_session_id)},
            )
        return SettleResponse(
            streaming_session_id=streaming_session_id,
            status=settlement.status,
            used_credits=settlement.charged_micro,
            refund=settlement.refunded_micro,
        )

    async def _to_settle(
        self, request: SettleRequest, user_id: str | None
    ) -> tuple[uuid.UUID, ReservationFacts]:
        """The reservation a settlement names and what it is for: remembered when this
        process made it, else read. 404 unless ``user_id`` (when the service names the user)
        owns it."""
        if request.streaming_session_id is not None:
            facts = self.memory.facts(request.streaming_session_id)
            if facts is not None:
                if user_id is not None and facts.user_id != user_id:
                    raise reservation_not_found()
                return request.streaming_session_id, facts
        reservation: Reservation | None
        async with self.pool.acquire() as conn:
            if request.streaming_session_id is not None:
                reservation = await repository.by_id(conn, request.streaming_session_id)
            elif user_id is not None and request.session_id is not None:
                reservation = await repository.latest_for_session(conn, user_id, request.session_id)
            else:
                raise ApiError(
                    422,
                    "validation_error",
                    "Settling by sessionId needs the user's token in X-On-Behalf-Of",
                )
        if reservation is None or (user_id is not None and reservation.user_id != user_id):
            raise reservation_not_found()
        return reservation.streaming_session_id, _facts(reservation)

    async def extend(
        self, streaming_session_id: uuid.UUID, request: ExtendRequest
    ) -> ExtendResponse:
        """Keep a live answer's hold and remember its progress, priced like a settlement."""
        facts = self.memory.facts(streaming_session_id)
        async with self.pool.acquire() as conn:
            if facts is None:
                reservation = await repository.by_id(conn, streaming_session_id)
                if reservation is None:
                    raise reservation_not_found()
                facts = _facts(reservation)
            charge = self.prices.cost_micro(
                facts.model_id,
                input_tokens=request.input_tokens,
                output_tokens=request.output_tokens,
                byok=facts.byok,
            )
            seconds = request.extend_seconds or self.settings.reservation_ttl_seconds
            expires_at = await repository.extend(
                conn,
                streaming_session_id,
                expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
                input_tokens=request.input_tokens,
                output_tokens=request.output_tokens,
                charge_micro=charge,
            )
            if expires_at is None:
                ended = await repository.by_id(conn, streaming_session_id)
                if ended is None:
                    raise reservation_not_found()
                raise ApiError(
                    409,
                    "reservation_closed",
                    "The reservation is no longer held",
                    details={"status": ended.status},
                )
        return ExtendResponse(streaming_session_id=streaming_session_id, expires_at=expires_at)

    async def active(self, user_id: str | None) -> ActiveReservations:
        async with self.pool.acquire() as conn:
            held = await repository.open_ones(conn, user_id)
        return ActiveReservations(
            reservations=[
                ReservationOut(
                    streaming_session_id=r.streaming_session_id,
                    user_id=r.user_id,
                    session_id=r.session_id,
                    model_id=r.model_id,
                    estimated_tokens=r.estimated_tokens,
                    allocated_credits=r.held_micro,
                    byok=r.byok,
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                )
                for r in held
            ]
        )


def _facts(reservation: Reservation) -> ReservationFacts:
    return ReservationFacts(
        reservation.account_id, reservation.user_id, reservation.model_id, reservation.byok
    )


class HoldSweeper:
    """Releases holds that outlived their expiry (a chat process died mid-stream), and keeps
    the open-holds gauges current. Every replica may run one: rows are taken SKIP LOCKED."""

    def __init__(self, pool: asyncpg.Pool, interval: float) -> None:
        self._pool = pool
        # Whatever a failed sweep met (a database outage, or a bug), the next may succeed: a
        # sweeper that died would leave every expired hold held.
        self._loop = BackgroundLoop(
            "hold-sweeper",
            self.sweep_once,
            interval=interval,
            on_failure=lambda failure: log_failure(log, "hold sweep", failure.error),
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def sweep_once(self) -> int:
        async with self._pool.acquire() as conn:
            released = await ledger.expire_holds(conn)
            open_holds = await repository.open_totals(conn)
        metrics.OPEN_HOLDS.set(open_holds.count)
        metrics.HELD_CREDITS.set(float(from_micro(open_holds.held_micro)))
        if released:
            log.info("released expired holds", extra={"reservations": released})
        return released
