"""Allocating credits, and reading balances and prices."""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from accounting import metrics
from accounting.accounts.repository import Account
from accounting.accounts.service import AccountsService
from accounting.config import AccountingSettings
from accounting.credits import repository
from accounting.credits.amounts import MAX_BALANCE_MICRO, from_micro, json_credits, to_micro
from accounting.credits.schemas import (
    AllocateRequest,
    AllocateResponse,
    AllocationOut,
    BalanceResponse,
    CalculateRequest,
    CalculateResponse,
    CheckRequest,
    CheckResponse,
)
from accounting.internal.schemas import (
    AccountOut,
    AccountRequest,
    GrantOut,
    GrantRequest,
)
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from bus_events import AuditRecorded, event_of
from event_bus import enqueue
from idempotency import Once, StoredResponse
from jwt_contract import Principal
from service_kit import ApiError, request_id_var

log = logging.getLogger(__name__)

# Names each idempotent grant's allocation: uuid5(namespace, idempotency key).
_GRANT_NAMESPACE = uuid.UUID("5f0c6a8e-2b7d-4d53-9a44-2f6c1f1b9e01")


def balance_limit() -> ApiError:
    limit = from_micro(MAX_BALANCE_MICRO + 1)
    return ApiError(400, "balance_limit", f"An account holds less than {limit:,} credits")


def key_reused(operation: str) -> ApiError:
    return ApiError(
        422,
        "idempotency_key_reused",
        f"This idempotency key was already used for another {operation}",
    )


def insufficient_credits(available_micro: int, required_micro: int) -> ApiError:
    return ApiError(
        402,
        "insufficient_credits",
        "Insufficient credits",
        details={
            "availableCredits": json_credits(available_micro),
            "requiredCredits": json_credits(required_micro),
        },
    )


@dataclass
class CreditsService:
    pool: asyncpg.Pool
    accounts: AccountsService
    prices: PriceTable
    settings: AccountingSettings
    # The outbox relay's wake(): an audit event stored is published now, not at its next poll.
    wake_relay: Callable[[], None] = lambda: None

    def hold_micro(self, model_id: str, estimated_tokens: int, *, byok: bool = False) -> int:
        """What a reservation holds: the most the tokens can cost, plus the margin. At least
        one micro-credit: the ledger holds only positive amounts (a BYOK fee may be 0)."""
        bound = self.prices.bound_micro(model_id, estimated_tokens, byok=byok)
        return max(-(-bound * (100 + self.settings.reservation_margin_percent) // 100), 1)

    async def allocate(
        self,
        admin: Principal,
        request: AllocateRequest,
        once: Once | None = None,
    ) -> AllocateResponse | StoredResponse:
        """The allocation made, or, for an ``Idempotency-Key`` the admin already used with this
        body, the response it got then (and nothing moves)."""
        expires_at = request.expires_at
        if request.expiry_days is not None:
            expires_at = datetime.now(UTC) + timedelta(days=request.expiry_days)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise ApiError(400, "invalid_expiry", "The expiry must be in the future")
        account = await self.accounts.user_account(request.target_user_id)
        amount = to_micro(request.credits)
        allocation_id = uuid.uuid4()
        audit = AuditRecorded(
            actor_id=admin.user_id,
            action="credits.allocated",
            target_type=account.owner_type,
            target_id=account.owner_id,
            after={
                "allocationId": str(allocation_id),
                "credits": json_credits(amount),
                "expiresAt": expires_at.isoformat() if expires_at else None,
                "notes": request.notes,
            },
            request_id=request_id_var.get() or "-",
        )
        name = account.username or account.owner_id
        allocated = AllocateResponse(
            id=allocation_id,
            user_id=account.owner_id,
            credits=amount,
            expires_at=expires_at,
            message=f"Allocated {request.credits} credits to {name}",
        )
        try:
            replay = await self._allocate(
                account,
                allocation_id,
                amount,
                expires_at,
                request.notes,
                admin.user_id,
                audit,
                once,
                allocated,
            )
        except asyncpg.CheckViolationError:  # a concurrent allocation got there first
            raise balance_limit() from None
        if replay is not None:
            return replay
        metrics.CREDITS_ALLOCATED.inc(float(request.credits))
        log.info(
            "credits allocated",
            extra={"accountId": str(account.id), "micro": amount, "by": admin.user_id},
        )
        return allocated

    async def _allocate(
        self,
        account: Account,
        allocation_id: UUID,
        amount: int,
        expires_at: datetime | None,
        notes: str | None,
        created_by: str,
        audit: AuditRecorded | None = None,
        once: Once | None = None,
        allocated: AllocateResponse | None = None,
    ) -> StoredResponse | None:
        """``audit``, when given, is published through the outbox in the same transaction, and
        ``once``'s key is claimed and ``allocated`` kept as its answer there: a key's first
        response is kept if and only if the credits moved. Returns the kept response of a key
        used before (and moves nothing)."""
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            current = await repository.balance(conn, account.id)
            if current.available_micro + current.held_micro + amount > MAX_BALANCE_MICRO:
                raise balance_limit()
            await ledger.allocate(
                conn,
                allocation_id=allocation_id,
                account_id=account.id,
                amount_micro=amount,
                expires_at=expires_at,
                notes=notes,
                created_by=created_by,
            )
            if audit is not None:
                await enqueue(conn, event_of(audit))
            if once is not None and allocated is not None:
                await once.record(conn, allocated)
        if audit is not None:
            self.wake_relay()
        return None

    async def ensure_account(self, request: AccountRequest) -> AccountOut:
        async with self.pool.acquire() as conn, conn.transaction():
            account = await self.accounts.ensure_account(
                conn, request.owner_type, request.owner_id, request.username
            )
        return await self.account_balance(account)

    async def account_balance(self, account: Account) -> AccountOut:
        balance = await self.balance_of(account)
        return AccountOut(
            account_id=account.id,
            owner_type=account.owner_type,
            owner_id=account.owner_id,
            available_credits=balance.available_credits,
            reserved_credits=balance.reserved_credits,
            total_credits=balance.total_credits,
        )

    async def grant(self, request: GrantRequest) -> GrantOut:
        """Allocate once per idempotency key: the key names the allocation (a UUIDv5)."""
        if request.expires_at is not None and request.expires_at <= datetime.now(UTC):
            raise ApiError(400, "invalid_expiry", "The expiry must be in the future")
        allocation_id = uuid.uuid5(_GRANT_NAMESPACE, request.idempotency_key)
        amount = to_micro(request.credits)
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                account = await self.accounts.ensure_account(
                    conn, request.owner_type, request.owner_id, request.username
                )
            existing = await repository.allocation(conn, allocation_id)
        if existing is not None:
            if (existing.account_id, existing.amount_micro) != (account.id, amount):
                raise key_reused("grant")
            return GrantOut(
                allocation_id=allocation_id,
                account_id=existing.account_id,
                credits=amount,
                applied=False,
            )
        try:
            await self._allocate(
                account,
                allocation_id,
                amount,
                request.expires_at,
                request.notes,
                request.granted_by,
            )
        except asyncpg.UniqueViolationError:  # the same key, granted concurrently
            return GrantOut(
                allocation_id=allocation_id, account_id=account.id, credits=amount, applied=False
            )
        except asyncpg.CheckViolationError:
            raise balance_limit() from None
        metrics.CREDITS_ALLOCATED.inc(float(request.credits))
        log.info(
            "credits granted",
            extra={"accountId": str(account.id), "micro": amount, "by": request.granted_by},
        )
        return GrantOut(
            allocation_id=allocation_id, account_id=account.id, credits=amount, applied=True
        )

    async def balance_of(self, account: Account) -> BalanceResponse:
        async with self.pool.acquire() as conn:
            current = await repository.balance(conn, account.id)
            if current.expiry_due:
                await ledger.expire_due_allocations(conn, account.id)
                current = await repository.balance(conn, account.id)
            allocations = await repository.live_allocations(conn, account.id)
        return BalanceResponse(
            user_id=account.owner_id,
            total_credits=current.available_micro + current.held_micro,
            reserved_credits=current.held_micro,
            available_credits=current.available_micro,
            active_allocations=[
                AllocationOut(
                    id=a.id,
                    total_credits=a.amount_micro,
                    remaining_credits=a.remaining_micro,
                    expires_at=a.expires_at,
                    notes=a.notes,
                )
                for a in allocations
            ],
        )

    async def check(self, principal: Principal, request: CheckRequest) -> CheckResponse:
        if request.credits is not None:
            required = to_micro(request.credits)
        elif request.model_id is not None and request.estimated_tokens is not None:
            required = self.hold_micro(request.model_id, request.estimated_tokens)
        else:
            raise AssertionError("CheckRequest's validator lets no check without an amount")
        balance = await self.balance_of(await self.accounts.account_for(principal))
        return CheckResponse(
            sufficient=balance.available_credits >= required,
            available_credits=balance.available_credits,
            required_credits=required,
        )

    def calculate(self, request: CalculateRequest) -> CalculateResponse:
        if request.tokens is not None:
            cost = self.prices.bound_micro(request.model_id, request.tokens)
        else:
            cost = self.prices.cost_micro(
                request.model_id,
                input_tokens=request.input_tokens or 0,
                output_tokens=request.output_tokens or 0,
            )
        return CalculateResponse(model_id=request.model_id, credits=cost)
