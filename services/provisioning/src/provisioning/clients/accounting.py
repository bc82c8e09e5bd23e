"""Accounting's /internal routes: team accounts, and grants given once per idempotency key."""

from uuid import UUID

from provisioning.clients.calls import PeerClient


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
    ) -> dict:
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
        if response.status_code not in (200, 201):
            raise self.unexpected(response)
        return response.json()

    async def ensure_account(self, *, owner_type: str, owner_id: str) -> dict:
        body = {"ownerType": owner_type, "ownerId": owner_id}
        response = await self.request("POST", "/internal/accounts", json=body)
        if response.status_code != 200:
            raise self.unexpected(response)
        return response.json()

    async def account(self, account_id: UUID) -> dict:
        response = await self.request("GET", f"/internal/accounts/{account_id}")
        if response.status_code != 200:
            raise self.unexpected(response)
        return response.json()
