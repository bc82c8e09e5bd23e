"""Auth's /internal routes: user look-ups, and team API keys (auth mints and verifies them).

Minting and rotating take an ``Idempotency-Key`` (auth keeps it 24 h for this service): the
same key and body answer the key auth minted first instead of minting another."""

from uuid import UUID

from provisioning.clients.calls import PeerAnswer, PeerClient
from provisioning.team_keys.schemas import KeyList, KeyOut, MintedKey
from service_client import PeerReply
from service_kit import ApiError


class User(PeerAnswer):
    """An active user as auth names them."""

    id: str
    username: str
    email: str


class AuthClient(PeerClient):
    service = "auth"

    async def find_user(self, login: str) -> User | None:
        """The active user whose username, email or id is ``login``; None when there is none."""
        response = await self.request("GET", "/internal/users/{}", login)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self.unexpected(response)
        return self.parse(response, User)

    async def mint_key(
        self,
        *,
        team_id: UUID,
        organization_id: UUID,
        account_id: UUID,
        name: str,
        models: list[str],
        expires_in_days: int | None,
        created_by: str,
        idempotency_key: str | None = None,
    ) -> MintedKey:
        body = {
            "teamId": str(team_id),
            "organizationId": str(organization_id),
            "accountId": str(account_id),
            "name": name,
            "models": models,
            "expiresInDays": expires_in_days,
            "createdBy": created_by,
        }
        response = await self.request(
            "POST", "/internal/api-keys", json=body, headers=_keyed(idempotency_key)
        )
        if response.status != 201:
            raise self._refused_key(response)
        return self.parse(response, MintedKey)

    async def team_keys(self, team_id: UUID) -> list[KeyOut]:
        response = await self.request("GET", "/internal/api-keys", params={"teamId": str(team_id)})
        if response.status != 200:
            raise self.unexpected(response)
        return self.parse(response, KeyList).keys

    async def revoke_key(self, key_id: UUID) -> KeyOut:
        response = await self.request("DELETE", "/internal/api-keys/{}", str(key_id))
        if response.status == 404:
            raise unknown_key()
        if response.status != 200:
            raise self.unexpected(response)
        return self.parse(response, KeyOut)

    async def rotate_key(
        self,
        key_id: UUID,
        *,
        grace_period_seconds: int,
        created_by: str,
        idempotency_key: str | None = None,
    ) -> MintedKey:
        body = {"gracePeriodSeconds": grace_period_seconds, "createdBy": created_by}
        response = await self.request(
            "POST",
            "/internal/api-keys/{}/rotate",
            str(key_id),
            json=body,
            headers=_keyed(idempotency_key),
        )
        if response.status == 404:
            raise unknown_key()
        if response.status != 201:
            raise self._refused_key(response)
        return self.parse(response, MintedKey)

    def _refused_key(self, response: PeerReply) -> ApiError:
        """Auth's 422 ``idempotency_key_reused``: the key was sent before with another body
        (the team's models changed between a crashed request and its retry, say). Anything
        else is unexpected."""
        answer = response.json()
        if response.status == 422 and isinstance(answer, dict):
            if answer.get("code") == "idempotency_key_reused":
                return ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used for a key with other terms (the "
                    "team's models changed since): use a new key",
                )
        return self.unexpected(response)


def _keyed(idempotency_key: str | None) -> dict[str, str] | None:
    return None if idempotency_key is None else {"Idempotency-Key": idempotency_key}


def unknown_key() -> ApiError:
    return ApiError(404, "not_found", "Unknown API key")
