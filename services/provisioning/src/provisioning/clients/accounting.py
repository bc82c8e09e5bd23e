"""Accounting's /internal routes: team accounts, grants given once per idempotency key, and
transfers of credits from an owner's balance."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from provisioning.clients.calls import PeerAnswer, PeerClient
from service_client import PeerReply
from service_kit import ApiError

# Accounting's refusals of a funding that provisioning's callers get as they are.
PASSED_ON = {
    (402, "insufficient_credits"),
    (422, "idempotency_key_reused"),
    (400, "balance_limit"),
}


class Account(PeerAnswer):
    account_id: UUID
    available_credits: Decimal


class Grant(PeerAnswer):
    allocation_id: UUID
    account_id: UUID
    applied: bool  # False: the idempotency key had granted before


class Refusal(PeerAnswer):
    """The platform's error envelope."""

    code: str
    message: str
    details: Any = None


class Transfer(PeerAnswer):
    transfer_id: UUID
    from_account_id: UUID
    to_account_id: UUID
    credits: Decimal
    from_available_credits: Decimal
    to_available_credits: Decimal
    applied: bool  # False: the idempotency key had transferred before


class AccountingClient(PeerClient):
    service = "accounting"

    async def grant(
        self,
        *,
        owner_type: str,
        owner_id: str,
        credits: str,
        idempotency_key: str,
        granted_by: str,
        username: str | None = None,
        notes: str | None = None,
    ) -> Grant:
        """Allocate ``credits`` (a decimal string) to the owner's account, created if missing."""
        body = {
            "ownerType": owner_type,
            "ownerId": owner_id,
            "username": username,
            "credits": credits,
            "idempotencyKey": idempotency_key,
            "grantedBy": granted_by,
            "notes": notes,
        }
        response = await self.request("POST", "/internal/grants", json=body)
        if response.status not in (200, 201):
            raise self.refused(response)
        return self.parse(response, Grant)

    async def ensure_account(self, *, owner_type: str, owner_id: str) -> Account:
        body = {"ownerType": owner_type, "ownerId": owner_id}
        response = await self.request("POST", "/internal/accounts", json=body)
        if response.status != 200:
            raise self.unexpected(response)
        return self.parse(response, Account)

    async def account(self, account_id: UUID) -> Account:
        response = await self.request("GET", "/internal/accounts/{}", str(account_id))
        if response.status != 200:
            raise self.unexpected(response)
        return self.parse(response, Account)

    async def transfer(
        self,
        *,
        from_owner_type: str,
        from_owner_id: str,
        to_account_id: UUID,
        credits: str,
        idempotency_key: str,
        requested_by: str,
        notes: str | None = None,
    ) -> Transfer:
        """Move ``credits`` (a decimal string) from the owner's available balance to the
        account, once per key; accounting's refusals (402 when short) are raised as they are."""
        body = {
            "fromOwnerType": from_owner_type,
            "fromOwnerId": from_owner_id,
            "toAccountId": str(to_account_id),
            "credits": credits,
            "idempotencyKey": idempotency_key,
            "requestedBy": requested_by,
            "notes": notes,
        }
        response = await self.request("POST", "/internal/transfers", json=body)
        if response.status not in (200, 201):
            raise self.refused(response)
        return self.parse(response, Transfer)

    def refused(self, response: PeerReply) -> ApiError:
        """A refusal callers should see as accounting gave it; anything else is unexpected."""
        try:
            refusal = self.parse(response, Refusal)
        except ApiError as unexpected:
            return unexpected
        if (response.status, refusal.code) not in PASSED_ON:
            return self.unexpected(response)
        return ApiError(response.status, refusal.code, refusal.message, details=refusal.details)
