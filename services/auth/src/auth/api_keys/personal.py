"""Personal API keys: a user's own ``sk-`` keys, acting as them (role ``enduser``) once the
gateway exchanges them (``ApiKeysService.exchange``)."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
from pydantic import JsonValue

from auth import audit
from auth.api_keys import repository
from auth.api_keys.repository import ApiKey
from auth.api_keys.schemas import (
    MintedPersonalKey,
    PersonalKeyList,
    PersonalKeyOut,
    PersonalKeyRequest,
    budget_micro,
)
from auth.api_keys.service import KEY_PREFIX, key_hash, new_key
from auth.idempotent import Once
from auth.revocations.service import revoke_key
from auth.users import repository as users
from event_bus import OutboxRelay
from idempotency import StoredResponse
from jwt_contract import Principal
from jwt_contract.dependencies import invalid_token
from service_kit import ApiError

log = logging.getLogger(__name__)


def personal_key_out(key: ApiKey) -> PersonalKeyOut:
    return PersonalKeyOut.model_validate(key, from_attributes=True)


def _audit_view(key: ApiKey) -> JsonValue:
    """What the audit trail keeps of a key: its settings (the secret is never stored)."""
    view: JsonValue = personal_key_out(key).model_dump(
        mode="json", by_alias=True, include=_AUDITED_FIELDS
    )
    return view


_AUDITED_FIELDS = {
    "name",
    "prefix",
    "models",
    "requests_per_minute",
    "tokens_per_minute",
    "max_budget_credits",
    "expires_at",
}


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "API key not found")


def _owner_id(owner: Principal) -> UUID:
    try:
        return UUID(owner.user_id)
    except ValueError:
        raise invalid_token() from None


@dataclass
class PersonalKeysService:
    pool: asyncpg.Pool
    relay: OutboxRelay
    max_keys: int

    async def create(
        self, owner: Principal, request: PersonalKeyRequest, once: Once | None = None
    ) -> MintedPersonalKey | StoredResponse:
        """The key minted, or the response a key already used with this body got."""
        user_id = _owner_id(owner)
        expires_at = (
            datetime.now(UTC) + timedelta(days=request.expires_in_days)
            if request.expires_in_days
            else None
        )
        secret = new_key()
        async with self.pool.acquire() as conn, conn.transaction():
            # The user's row is locked: two creations at once cannot both take the last place.
            user = await users.lock(conn, user_id)
            if user is None or user.disabled:
                raise invalid_token()
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            if await repository.count_live_for_user(conn, user_id) >= self.max_keys:
                raise ApiError(
                    409,
                    "key_limit_reached",
                    f"You already have {self.max_keys} live API keys; revoke one first",
                    details={"limit": self.max_keys},
                )
            key = await repository.insert(
                conn,
                key_id=uuid.uuid4(),
                team_id=None,
                organization_id=None,
                account_id=None,
                user_id=user_id,
                name=request.name,
                prefix=secret[: len(KEY_PREFIX) + 8],
                key_hash=key_hash(secret),
                models=request.models,
                requests_per_minute=request.requests_per_minute,
                tokens_per_minute=request.tokens_per_minute,
                max_budget_micro=budget_micro(request.max_budget_credits),
                created_by=str(user_id),
                expires_at=expires_at,
            )
            await audit.record(
                conn,
                owner.user_id,
                "personal_key.created",
                target_type="api_key",
                target_id=str(key.id),
                after=_audit_view(key),
            )
            minted = MintedPersonalKey(**personal_key_out(key).model_dump(), key=secret)
            if once is not None:
                await once.record(conn, minted)
        self.relay.wake()
        log.info("personal api key minted", extra={"keyId": str(key.id), "userId": owner.user_id})
        return minted

    async def list_own(self, owner: Principal) -> PersonalKeyList:
        async with self.pool.acquire() as conn:
            keys = await repository.live_for_user(conn, _owner_id(owner))
        return PersonalKeyList(keys=[personal_key_out(key) for key in keys])

    async def revoke(self, owner: Principal, key_id: UUID) -> PersonalKeyOut:
        async with self.pool.acquire() as conn, conn.transaction():
            revoked = await repository.revoke_personal_key(conn, key_id, _owner_id(owner))
            if revoked is None:
                raise _not_found()
            # Its tokens already issued are refused everywhere from now on.
            await revoke_key(conn, revoked.key, revoked.revoked_at)
            await audit.record(
                conn,
                owner.user_id,
                "personal_key.revoked",
                target_type="api_key",
                target_id=str(key_id),
                before=_audit_view(revoked.key),
            )
        self.relay.wake()
        log.info("personal api key revoked", extra={"keyId": str(key_id), "userId": owner.user_id})
        return personal_key_out(revoked.key)
