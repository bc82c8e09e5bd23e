"""Usage: direct charges and statistics."""

import uuid
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from accounting import metrics
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.repository import Account
from accounting.accounts.service import AccountsService
from accounting.credits.amounts import from_micro, to_micro
from accounting.database import Connection
from accounting.key_budgets.claims import SpendingKey, spending_key
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from accounting.reservations.service import usage_cost_micro
from accounting.usage import repository
from accounting.usage.repository import UsageRecord, UsageSums
from accounting.usage.schemas import (
    DayUsage,
    KeyUsage,
    ModelUsage,
    RecordUsageRequest,
    RecordUsageResponse,
    SystemStats,
    Totals,
    UsageStats,
    UserUsage,
)
from jwt_contract import Principal


def _totals(sums: UsageSums) -> Totals:
    return Totals(
        credits=sums.credits_micro,
        input_tokens=sums.input_tokens,
        output_tokens=sums.output_tokens,
        tokens=sums.input_tokens + sums.output_tokens,
        requests=sums.requests,
    )


def _fields(sums: UsageSums) -> dict[str, int]:
    """The totals' fields, for the models that extend ``Totals`` with what they add up by."""
    return _totals(sums).model_dump()


def _recorded(usage: UsageRecord) -> RecordUsageResponse:
    return RecordUsageResponse(
        id=usage.id, charged_credits=usage.charged_micro, unpaid_credits=usage.unpaid_micro
    )


@dataclass
class UsageService:
    pool: asyncpg.Pool
    accounts: AccountsService
    prices: PriceTable
    low_credits: LowCreditsNotifier

    async def record(
        self, principal: Principal, request: RecordUsageRequest, idempotency_key: str | None
    ) -> RecordUsageResponse:
        if request.credits is not None:
            amount = to_micro(request.credits)
        elif request.model_id is not None:
            amount = usage_cost_micro(
                self.prices,
                request.model_id,
                input_tokens=request.input_tokens,
                output_tokens=request.output_tokens,
                actual_tokens=request.tokens,
            )
        else:
            raise AssertionError("RecordUsageRequest's validator lets no tokens without a model")
        api_key = spending_key(principal)  # the key the token was exchanged for, if any
        account = await self.accounts.account_for(principal)
        # A client that retries with the same key is charged once.
        event_id = (
            uuid.uuid5(uuid.NAMESPACE_URL, f"usage:{principal.user_id}:{idempotency_key}")
            if idempotency_key
            else None
        )
        async with self.pool.acquire() as conn:
            if event_id and (existing := await repository.by_event(conn, event_id)):
                return _recorded(existing)
            try:
                result = await self._charge(
                    conn, account, api_key, amount, principal, request, event_id
                )
            except asyncpg.UniqueViolationError:  # the same key, concurrently: charged once
                concurrent = await repository.by_event(conn, event_id) if event_id else None
                if concurrent is None:
                    raise
                return _recorded(concurrent)
        metrics.CREDITS_CHARGED.inc(float(from_micro(result.charged_micro)))
        await self.low_credits.check(account.id, account.owner_id, result.available_micro)
        return RecordUsageResponse(
            id=result.usage_id,
            charged_credits=result.charged_micro,
            unpaid_credits=result.unpaid_micro,
        )

    @staticmethod
    async def _charge(
        conn: Connection,
        account: Account,
        api_key: SpendingKey | None,
        amount: int,
        principal: Principal,
        request: RecordUsageRequest,
        event_id: UUID | None,
    ) -> ledger.DirectCharge:
        return await ledger.charge(
            conn,
            account_id=account.id,
            amount_micro=amount,
            user_id=principal.user_id,
            service=request.service,
            operation=request.operation,
            model_id=request.model_id,
            input_tokens=(request.input_tokens or 0),
            output_tokens=(request.output_tokens or request.tokens or 0),
            event_id=event_id,
            key=api_key,
        )

    async def user_stats(self, user_id: str, days: int, key_id: UUID | None = None) -> UsageStats:
        """The user's usage; with ``key_id``, only what was made with that key (which is
        then empty unless the key is theirs)."""
        async with self.pool.acquire() as conn:
            totals = await repository.totals(conn, days, user_id, key_id)
            byok = await repository.totals(conn, days, user_id, key_id, byok_only=True)
            models = await repository.by_model(conn, days, user_id, key_id)
            daily = await repository.by_day(conn, days, user_id, key_id)
            keys = await repository.by_key(conn, days, user_id, key_id)
        return UsageStats(
            user_id=user_id,
            days=days,
            key_id=key_id,
            totals=_totals(totals),
            byok=_totals(byok),
            by_model=[ModelUsage(model_id=m.model_id, **_fields(m.sums)) for m in models],
            by_day=[DayUsage(date=d.date, **_fields(d.sums)) for d in daily],
            by_key=[
                KeyUsage(
                    key_id=k.key_id,
                    spent_credits=k.spent_micro,
                    held_credits=k.held_micro,
                    max_budget_credits=k.budget_micro,
                    **_fields(k.sums),
                )
                for k in keys
            ],
        )

    async def system_stats(self, days: int, top: int) -> SystemStats:
        async with self.pool.acquire() as conn:
            totals = await repository.totals(conn, days, None)
            models = await repository.by_model(conn, days, None)
            daily = await repository.by_day(conn, days, None)
            users = await repository.top_users(conn, days, top)
            user_count = await repository.distinct_users(conn, days)
        return SystemStats(
            days=days,
            totals=_totals(totals),
            users=user_count,
            by_model=[ModelUsage(model_id=m.model_id, **_fields(m.sums)) for m in models],
            by_day=[DayUsage(date=d.date, **_fields(d.sums)) for d in daily],
            top_users=[
                UserUsage(user_id=u.user_id, username=u.username, **_fields(u.sums)) for u in users
            ],
        )
