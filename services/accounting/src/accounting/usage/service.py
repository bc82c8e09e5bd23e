"""Usage: direct charges and statistics."""

import uuid
from dataclasses import dataclass

import asyncpg

from accounting import metrics
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.service import AccountsService
from accounting.credits.amounts import from_micro, to_micro
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from accounting.reservations.service import usage_cost_micro
from accounting.usage import repository
from accounting.usage.schemas import (
    DayUsage,
    ModelUsage,
    RecordUsageRequest,
    RecordUsageResponse,
    SystemStats,
    Totals,
    UsageStats,
    UserUsage,
)
from jwt_contract import Principal


def _totals(row: asyncpg.Record) -> dict:
    return {
        "credits": row["credits"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "tokens": row["input_tokens"] + row["output_tokens"],
        "requests": row["requests"],
    }


def _recorded(row: asyncpg.Record) -> RecordUsageResponse:
    return RecordUsageResponse(
        id=row["id"], charged_credits=row["credits_micro"], unpaid_credits=row["unpaid_micro"]
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
        else:
            amount = usage_cost_micro(
                self.prices,
                request.model_id,
                input_tokens=request.input_tokens,
                output_tokens=request.output_tokens,
                actual_tokens=request.tokens,
            )
        account = await self.accounts.account_for(principal)
        # A client that retries with the same key is charged once.
        event_id = (
            uuid.uuid5(uuid.NAMESPACE_URL, f"usage:{principal.user_id}:{idempotency_key}")
            if idempotency_key
            else None
        )
        async with self.pool.acquire() as conn:
            if event_id and (existing := await ledger.usage_by_event(conn, event_id)):
                return _recorded(existing)
            try:
                result = await self._charge(conn, account, amount, principal, request, event_id)
            except asyncpg.UniqueViolationError:  # the same key, concurrently: charged once
                return _recorded(await ledger.usage_by_event(conn, event_id))
        metrics.CREDITS_CHARGED.inc(float(from_micro(result.charged_micro)))
        await self.low_credits.check(account["id"], account["owner_id"], result.available_micro)
        return RecordUsageResponse(
            id=result.usage_id,
            charged_credits=result.charged_micro,
            unpaid_credits=result.unpaid_micro,
        )

    @staticmethod
    async def _charge(conn, account, amount, principal, request, event_id) -> ledger.DirectCharge:
        return await ledger.charge(
            conn,
            account_id=account["id"],
            amount_micro=amount,
            user_id=principal.user_id,
            service=request.service,
            operation=request.operation,
            model_id=request.model_id,
            input_tokens=(request.input_tokens or 0),
            output_tokens=(request.output_tokens or request.tokens or 0),
            event_id=event_id,
        )

    async def user_stats(self, user_id: str, days: int) -> UsageStats:
        async with self.pool.acquire() as conn:
            totals = await repository.totals(conn, days, user_id)
            models = await repository.by_model(conn, days, user_id)
            daily = await repository.by_day(conn, days, user_id)
        return UsageStats(
            user_id=user_id,
            days=days,
            totals=Totals(**_totals(totals)),
            by_model=[ModelUsage(model_id=r["model_id"], **_totals(r)) for r in models],
            by_day=[DayUsage(date=r["date"], **_totals(r)) for r in daily],
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
            totals=Totals(**_totals(totals)),
            users=user_count,
            by_model=[ModelUsage(model_id=r["model_id"], **_totals(r)) for r in models],
            by_day=[DayUsage(date=r["date"], **_totals(r)) for r in daily],
            top_users=[
                UserUsage(user_id=r["user_id"], username=r["username"], **_totals(r)) for r in users
            ],
        )
