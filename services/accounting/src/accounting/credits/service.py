"""Allocating credits, and reading balances and prices."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from accounting import metrics
from accounting.accounts.service import AccountsService
from accounting.config import AccountingSettings
from accounting.credits import repository
from accounting.credits.amounts import MAX_BALANCE_MICRO, from_micro, to_micro
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
    TransferOut,
    TransferRequest,
)
from accounting.ledger import repository as ledger
from accounting.pricing.prices import PriceTable
from jwt_contract import Principal
from service_kit import ApiError

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
            "availableCredits": float(from_micro(available_micro)),
            "requiredCredits": float(from_micro(required_micro)),
        },
    )


# A transfer is retried when it lost a deadlock (only a transaction locking several accounts
# in another order, such as the hold sweeper's, can cause one) or met a concurrent transfer
# with its key: the retry finds that transfer and answers as a replay.
TRANSFER_ATTEMPTS = 3


@dataclass
class CreditsService:
    pool: asyncpg.Pool
    accounts: AccountsService
    prices: PriceTable
    settings: AccountingSettings

    def hold_micro(self, model_id: str, estimated_tokens: int) -> int:
        """What a reservation holds: the most the tokens can cost, plus the margin."""
        bound = self.prices.bound_micro(model_id, estimated_tokens)
        return -(-bound * (100 + self.settings.reservation_margin_percent) // 100)

    async def allocate(self, admin: Principal, request: AllocateRequest) -> AllocateResponse:
        expires_at = request.expires_at
        if request.expiry_days is not None:
            expires_at = datetime.now(UTC) + timedelta(days=request.expiry_days)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise ApiError(400, "invalid_expiry", "The expiry must be in the future")
        account = await self.accounts.user_account(request.target_user_id)
        amount = to_micro(request.credits)
        allocation_id = uuid.uuid4()
        try:
            await self._allocate(
                account, allocation_id, amount, expires_at, request.notes, admin.user_id
            )
        except asyncpg.CheckViolationError:  # a concurrent allocation got there first
            raise balance_limit() from None
        metrics.CREDITS_ALLOCATED.inc(float(request.credits))
        log.info(
            "credits allocated",
            extra={"accountId": str(account["id"]), "micro": amount, "by": admin.user_id},
        )
        name = account["username"] or account["owner_id"]
        return AllocateResponse(
            id=allocation_id,
            user_id=account["owner_id"],
            credits=amount,
            expires_at=expires_at,
            message=f"Allocated {request.credits} credits to {name}",
        )

    async def _allocate(
        self, account, allocation_id, amount, expires_at, notes, created_by
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            current = await repository.balance(conn, account["id"])
            if current["available_micro"] + current["held_micro"] + amount > MAX_BALANCE_MICRO:
                raise balance_limit()
            await ledger.allocate(
                conn,
                allocation_id=allocation_id,
                account_id=account["id"],
                amount_micro=amount,
                expires_at=expires_at,
                notes=notes,
                created_by=created_by,
            )

    async def ensure_account(self, request: AccountRequest) -> AccountOut:
        async with self.pool.acquire() as conn, conn.transaction():
            account = await self.accounts.ensure_account(
                conn, request.owner_type, request.owner_id, request.username
            )
        return await self.account_balance(account)

    async def account_balance(self, account: asyncpg.Record) -> AccountOut:
        balance = await self.balance_of(account)
        return AccountOut(
            account_id=account["id"],
            owner_type=account["owner_type"],
            owner_id=account["owner_id"],
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
            if (existing["account_id"], existing["amount_micro"]) != (account["id"], amount):
                raise key_reused("grant")
            return GrantOut(
                allocation_id=allocation_id,
                account_id=existing["account_id"],
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
                allocation_id=allocation_id, account_id=account["id"], credits=amount, applied=False
            )
        except asyncpg.CheckViolationError:
            raise balance_limit() from None
        metrics.CREDITS_ALLOCATED.inc(float(request.credits))
        log.info(
            "credits granted",
            extra={"accountId": str(account["id"]), "micro": amount, "by": request.granted_by},
        )
        return GrantOut(
            allocation_id=allocation_id, account_id=account["id"], credits=amount, applied=True
        )

    async def transfer(self, request: TransferRequest) -> TransferOut:
        """Move available credits to another account in one ledger transaction, once per key.

        The source (and a target named by its owner) is found or created in the transaction
        that transfers, so a refused transfer leaves no new account behind. Not batched with
        other operations: it locks two accounts (see migrations/004_transfer.sql).
        """
        amount = to_micro(request.credits)
        named_target = None
        if request.to_account_id is not None:
            named_target = await self.accounts.by_id(request.to_account_id)  # 404 when unknown
        for attempt in range(1, TRANSFER_ATTEMPTS + 1):
            try:
                return await self._transfer(request, amount, named_target)
            except (asyncpg.DeadlockDetectedError, asyncpg.UniqueViolationError):
                if attempt == TRANSFER_ATTEMPTS:
                    raise
            except asyncpg.CheckViolationError:  # the target would exceed the balance cap
                raise balance_limit() from None
        raise AssertionError("unreachable")

    async def _transfer(
        self, request: TransferRequest, amount: int, named_target: asyncpg.Record | None
    ) -> TransferOut:
        async with self.pool.acquire() as conn, conn.transaction():
            source = await self.accounts.ensure_account(
                conn, request.from_owner_type, request.from_owner_id, None
            )
            target = named_target or await self.accounts.ensure_account(
                conn, request.to_owner_type, request.to_owner_id, None
            )
            if source["id"] == target["id"]:
                raise ApiError(400, "same_account", "A transfer needs two different accounts")
            moved = await ledger.transfer(
                conn,
                transfer_id=uuid.uuid4(),
                idempotency_key=request.idempotency_key,
                from_account_id=source["id"],
                to_account_id=target["id"],
                amount_micro=amount,
                notes=request.notes,
                created_by=request.requested_by,
            )
            # Refusals are raised inside the transaction: an account it made is not kept.
            if not moved.sufficient:
                raise insufficient_credits(moved.from_available_micro, amount)
            first = (moved.from_account_id, moved.to_account_id, moved.amount_micro)
            if not moved.applied and first != (source["id"], target["id"], amount):
                raise key_reused("transfer")
        if moved.applied:
            log.info(
                "credits transferred",
                extra={
                    "fromAccountId": str(source["id"]),
                    "toAccountId": str(target["id"]),
                    "micro": amount,
                    "by": request.requested_by,
                },
            )
        return TransferOut(
            transfer_id=moved.transfer_id,
            from_account_id=moved.from_account_id,
            to_account_id=moved.to_account_id,
            credits=moved.amount_micro,
            from_available_credits=moved.from_available_micro,
            to_available_credits=moved.to_available_micro,
            applied=moved.applied,
        )

    async def balance_of(self, account: asyncpg.Record) -> BalanceResponse:
        async with self.pool.acquire() as conn:
            current = await repository.balance(conn, account["id"])
            if current["expiry_due"]:
                await ledger.expire_due_allocations(conn, account["id"])
                current = await repository.balance(conn, account["id"])
            allocations = await repository.live_allocations(conn, account["id"])
        return BalanceResponse(
            user_id=account["owner_id"],
            total_credits=current["available_micro"] + current["held_micro"],
            reserved_credits=current["held_micro"],
            available_credits=current["available_micro"],
            active_allocations=[
                AllocationOut(
                    id=a["id"],
                    total_credits=a["amount_micro"],
                    remaining_credits=a["remaining_micro"],
                    expires_at=a["expires_at"],
                    notes=a["notes"],
                )
                for a in allocations
            ],
        )

    async def check(self, principal: Principal, request: CheckRequest) -> CheckResponse:
        if request.credits is not None:
            required = to_micro(request.credits)
        else:
            required = self.hold_micro(request.model_id, request.estimated_tokens)
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
