"""Transfers: credits moved from an owner's available balance to another account."""

import logging
import uuid
from dataclasses import dataclass

import asyncpg

from accounting.accounts.repository import Account, OwnerType
from accounting.accounts.service import AccountsService
from accounting.credits.amounts import to_micro
from accounting.credits.service import balance_limit, insufficient_credits, key_reused
from accounting.internal.schemas import TransferOut, TransferRequest
from accounting.ledger import repository as ledger
from service_kit import ApiError

log = logging.getLogger(__name__)

# A transfer is retried when it lost a deadlock (only a transaction locking several accounts
# in another order, such as the hold sweeper's, can cause one) or met a concurrent transfer
# with its key: the retry finds that transfer and answers as a replay.
TRANSFER_ATTEMPTS = 3

# Where a transfer goes: an account named by its id, or an owner whose account is made when
# missing (in the transfer's own transaction).
Target = Account | tuple[OwnerType, str]


@dataclass
class TransfersService:
    pool: asyncpg.Pool
    accounts: AccountsService

    async def transfer(self, request: TransferRequest) -> TransferOut:
        """Move available credits to another account in one ledger transaction, once per key.

        The source (and a target named by its owner) is found or created in the transaction
        that transfers, so a refused transfer leaves no new account behind. Not batched with
        other operations: it locks two accounts (see migrations/004_transfer.sql).
        """
        amount = to_micro(request.credits)
        target: Target
        if request.to_account_id is not None:
            target = await self.accounts.by_id(request.to_account_id)  # 404 when unknown
        elif request.to_owner_type is not None and request.to_owner_id is not None:
            target = (request.to_owner_type, request.to_owner_id)
        else:
            raise AssertionError("TransferRequest's validator lets no transfer without a target")
        for attempt in range(1, TRANSFER_ATTEMPTS + 1):
            try:
                return await self._transfer(request, amount, target)
            except (asyncpg.DeadlockDetectedError, asyncpg.UniqueViolationError):
                if attempt == TRANSFER_ATTEMPTS:
                    raise
            except asyncpg.CheckViolationError:  # the target would exceed the balance cap
                raise balance_limit() from None
        raise AssertionError("unreachable")

    async def _transfer(self, request: TransferRequest, amount: int, to: Target) -> TransferOut:
        async with self.pool.acquire() as conn, conn.transaction():
            source = await self.accounts.ensure_account(
                conn, request.from_owner_type, request.from_owner_id, None
            )
            if isinstance(to, Account):
                target = to
            else:
                target = await self.accounts.ensure_account(conn, *to, None)
            if source.id == target.id:
                raise ApiError(400, "same_account", "A transfer needs two different accounts")
            moved = await ledger.transfer(
                conn,
                transfer_id=uuid.uuid4(),
                idempotency_key=request.idempotency_key,
                from_account_id=source.id,
                to_account_id=target.id,
                amount_micro=amount,
                notes=request.notes,
                created_by=request.requested_by,
            )
            # Refusals are raised inside the transaction: an account it made is not kept.
            if not moved.sufficient:
                raise insufficient_credits(moved.from_available_micro, amount)
            first = (moved.from_account_id, moved.to_account_id, moved.amount_micro)
            if not moved.applied and first != (source.id, target.id, amount):
                raise key_reused("transfer")
        if moved.applied:
            log.info(
                "credits transferred",
                extra={
                    "fromAccountId": str(source.id),
                    "toAccountId": str(target.id),
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
