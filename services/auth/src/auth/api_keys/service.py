"""API keys exchanged by the gateway for short-lived tokens; team keys, minted for provisioning.

Personal keys (a user's own) are created in ``personal.py``; both kinds are exchanged here.
"""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from auth.api_keys import repository
from auth.api_keys.repository import ApiKey, UsableKey
from auth.api_keys.schemas import (
    ExchangeResponse,
    KeyList,
    KeyOut,
    MintedKey,
    MintKeyRequest,
    RotateRequest,
)
from auth.config import AuthSettings
from auth.database import Connection
from auth.idempotent import Once
from auth.revocations.service import revoke_key
from auth.two_factor import repository as two_factor
from event_bus import OutboxRelay
from idempotency import StoredResponse
from jwt_contract import Revocations, TokenSigner
from jwt_contract.claims import TWO_FACTOR_CLAIM
from service_kit import ApiError

log = logging.getLogger(__name__)

KEY_PREFIX = "sk-"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key, from_attributes=True)


def invalid_key() -> ApiError:
    # Its own code, so the gateway tells a refused key from a refused service token.
    return ApiError(401, "invalid_api_key", "Invalid API key")


@dataclass
class ApiKeysService:
    pool: asyncpg.Pool
    signer: TokenSigner
    settings: AuthSettings
    relay: OutboxRelay
    # What this process heard revoked: a deleted organization's keys are refused here at
    # once, before auth's own consumer has marked them revoked in the database.
    revocations: Revocations = field(default_factory=Revocations)

    async def mint(
        self, request: MintKeyRequest, once: Once | None = None
    ) -> MintedKey | StoredResponse:
        """The key minted, or the response a key already used with this body got."""
        expires_at = (
            datetime.now(UTC) + timedelta(days=request.expires_in_days)
            if request.expires_in_days
            else None
        )
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            minted = await self._mint(conn, request, expires_at)
            if once is not None:
                await once.record(conn, minted)
        return minted

    async def _mint(
        self, conn: Connection, request: MintKeyRequest, expires_at: datetime | None
    ) -> MintedKey:
        secret = new_key()
        key = await repository.insert(
            conn,
            key_id=uuid.uuid4(),
            team_id=request.team_id,
            organization_id=request.organization_id,
            account_id=request.account_id,
            name=request.name,
            prefix=secret[: len(KEY_PREFIX) + 8],
            key_hash=key_hash(secret),
            models=request.models,
            created_by=request.created_by,
            expires_at=expires_at,
        )
        log.info("api key minted", extra={"keyId": str(key.id), "teamId": request.team_id})
        return MintedKey(id=key.id, key=secret, prefix=key.prefix, expires_at=expires_at)

    async def list_for_team(self, team_id: str) -> KeyList:
        async with self.pool.acquire() as conn:
            return KeyList(keys=[key_out(key) for key in await repository.for_team(conn, team_id)])

    async def revoke(self, key_id: UUID) -> KeyOut:
        async with self.pool.acquire() as conn, conn.transaction():
            revoked = await repository.revoke_team_key(conn, key_id)
            if revoked is None:
                raise ApiError(404, "not_found", "API key not found")
            # Its tokens already issued are refused everywhere from now on.
            await revoke_key(conn, revoked.key, revoked.revoked_at)
        self.relay.wake()
        log.info("api key revoked", extra={"keyId": str(key_id)})
        return key_out(revoked.key)

    async def rotate(
        self, key_id: UUID, request: RotateRequest, once: Once | None = None
    ) -> MintedKey | StoredResponse:
        """A new key with the old one's rights; the old one works for the grace period. Or
        the response a key already used with this body got."""
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            old = await repository.team_key_by_id(conn, key_id)
            # A team key always has its team and account (the table checks it): for the types.
            if old is None or old.revoked_at is not None or not (old.team_id and old.account_id):
                raise ApiError(404, "not_found", "API key not found")
            minted = await self._mint(
                conn,
                MintKeyRequest(
                    team_id=old.team_id,
                    organization_id=old.organization_id,
                    account_id=old.account_id,
                    name=old.name,
                    models=old.models,
                    created_by=request.created_by,
                ),
                old.expires_at,
            )
            until = datetime.now(UTC) + timedelta(seconds=request.grace_period_seconds)
            await repository.retire(conn, key_id, until, minted.id)
            # The old key's tokens are refused once its grace period ends.
            await revoke_key(conn, old, until)
            if once is not None:
                await once.record(conn, minted)
        self.relay.wake()
        return minted

    async def exchange(self, api_key: str) -> ExchangeResponse:
        if not api_key.startswith(KEY_PREFIX):
            raise invalid_key()
        async with self.pool.acquire() as conn:
            usable = await repository.usable_by_hash(conn, key_hash(api_key))
            owner = None if usable is None else usable.key.user_id
            # A personal key's token carries its owner's 2FA (REQUIRE_2FA_ROLES elsewhere).
            owner_two_factor = owner is not None and await two_factor.is_enabled(conn, owner)
        if usable is None:
            raise invalid_key()
        ttl = self.settings.api_key_token_ttl_seconds
        expires_at = usable.key.expires_at
        if expires_at is not None:  # never past the key's own end (rotation grace)
            remaining = int((expires_at - datetime.now(UTC)).total_seconds())
            ttl = max(1, min(ttl, remaining))
        bearer = _acting_as(usable, owner_two_factor=owner_two_factor)
        token, claims = self.signer.issue(
            user_id=bearer.user_id,
            username=bearer.username,
            email=bearer.email,
            # Never more than enduser, even for an admin's own key: a key is for inference,
            # and a leaked one must not administer anything.
            role="enduser",
            token_type="access",
            ttl_seconds=ttl,
            extra=bearer.claims,
        )
        if self.revocations.reason_to_refuse(claims) is not None:
            raise invalid_key()
        return ExchangeResponse(access_token=token, expires_in=ttl)


@dataclass(frozen=True)
class _Bearer:
    """Who a key's token is: its team, or its owner."""

    user_id: str
    username: str
    email: str
    claims: dict[str, Any]


def _acting_as(usable: UsableKey, *, owner_two_factor: bool) -> _Bearer:
    key, holder = usable.key, usable.holder
    if holder is None:
        return _Bearer(
            str(key.id),
            f"key:{key.name}",
            f"{key.prefix}@api-keys.invalid",
            {
                "teamId": key.team_id,
                "accountId": str(key.account_id),
                "models": key.models,
                "keyId": str(key.id),
                **({"organizationId": key.organization_id} if key.organization_id else {}),
            },
        )
    limits = {
        "models": key.models,
        "requestsPerMinute": key.requests_per_minute,  # the gateway's
        "tokensPerMinute": key.tokens_per_minute,  # chat's, where tokens are measured
        # Accounting's: it trusts the budget because this service signed it, and takes it
        # from the token only, never from what a caller sends.
        "keyBudgetMicro": key.max_budget_micro,
    }
    return _Bearer(
        str(key.user_id),
        holder.username,
        holder.email,
        {
            # The owner's version: disabling them or changing their role refuses these too.
            "tv": holder.token_version,
            TWO_FACTOR_CLAIM: owner_two_factor,
            "keyId": str(key.id),
            **{claim: value for claim, value in limits.items() if value is not None},
        },
    )
