"""BYOK credentials: who may store, see, validate and delete which, and the decrypted
credential chat calls a provider with.

A user's own credentials are theirs alone; a team's are its organization's owners' and admins'
(and platform admins', as for every team). Anyone else gets 404 for a credential id, as if it
did not exist. Creating and deleting are audited in the same transaction (never the secret:
provider, label, last4). Several credentials for one provider may be kept: the newest is used.
"""

import logging
import uuid
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.byok import repository
from provisioning.byok.base_urls import Resolver, checked_base_url, resolve
from provisioning.byok.catalog import PROVIDERS, ProviderOut
from provisioning.byok.config import ByokSettings
from provisioning.byok.crypto import Secrets, last4, open_secrets, seal
from provisioning.byok.repository import Credential, NewCredential, Owner
from provisioning.byok.schemas import (
    AwsCredentials,
    CompatibleKeyCreate,
    CredentialLookup,
    KeyCreate,
    KeyList,
    KeyOut,
    ResolvedCredential,
    Validation,
)
from provisioning.byok.validation import ProviderEndpoints, Validator
from provisioning.database import Connection
from provisioning.idempotent import Once
from provisioning.teams.service import managed_team
from sealed_secrets import SecretBox, SecretNotReadable
from service_kit import ApiError

log = logging.getLogger(__name__)


def unknown_credential() -> ApiError:
    return ApiError(404, "not_found", "Unknown BYOK credential")


def unreadable() -> ApiError:
    return ApiError(
        503,
        "credential_unreadable",
        "The credential cannot be decrypted: the master key it was stored under is not "
        "configured (BYOK_PREVIOUS_ENCRYPTION_KEYS)",
        headers={"Retry-After": "60"},
    )


def key_out(credential: Credential) -> KeyOut:
    return KeyOut(
        id=credential.id,
        provider=credential.provider,
        label=credential.label,
        last4=credential.last4,
        team_id=credential.team_id,
        base_url=credential.base_url,
        created_by=credential.created_by,
        created_at=credential.created_at,
    )


@dataclass
class ByokService:
    pool: asyncpg.Pool
    box: SecretBox
    validator: Validator
    production: bool
    max_keys: int
    resolver: Resolver = resolve

    @staticmethod
    def providers() -> list[ProviderOut]:
        return PROVIDERS

    async def create(
        self, principal: Principal, request: KeyCreate, once: Once | None = None
    ) -> KeyOut | StoredResponse:
        base_url = None
        if isinstance(request, CompatibleKeyCreate):
            base_url = await checked_base_url(
                request.base_url, production=self.production, resolver=self.resolver
            )
        credential_id = uuid.uuid4()
        sealed = seal(self.box, credential_id, request.credentials)
        async with self.pool.acquire() as conn, conn.transaction():
            owner, organization_id = await self._owner_for(conn, principal, request.team_id)
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            await repository.lock_owner(conn, owner)
            if await repository.count(conn, owner) >= self.max_keys:
                raise ApiError(
                    409,
                    "too_many_keys",
                    f"At most {self.max_keys} BYOK credentials are kept per user and per "
                    "team: delete one first",
                )
            credential = await repository.insert(
                conn,
                NewCredential(
                    id=credential_id,
                    user_id=owner.user_id,
                    team_id=owner.team_id,
                    provider=request.provider,
                    label=request.label.strip(),
                    base_url=base_url,
                    last4=last4(request.credentials),
                    sealed=sealed,
                    created_by=principal.user_id,
                ),
            )
            created = key_out(credential)
            await self._audit(conn, principal, "byok_key.created", credential, organization_id)
            if once is not None:
                await once.record(conn, created)
        return created

    async def list_keys(self, principal: Principal, team_id: UUID | None) -> KeyList:
        async with self.pool.acquire() as conn:
            owner, _ = await self._owner_for(conn, principal, team_id)
            credentials = await repository.of_owner(conn, owner)
        return KeyList(keys=[key_out(credential) for credential in credentials])

    async def delete(self, principal: Principal, credential_id: UUID) -> KeyOut:
        async with self.pool.acquire() as conn, conn.transaction():
            credential, organization_id = await self._accessible(conn, principal, credential_id)
            if not await repository.delete(conn, credential.id):  # deleted meanwhile
                raise unknown_credential()
            await self._audit(conn, principal, "byok_key.deleted", credential, organization_id)
        return key_out(credential)

    async def validate(self, principal: Principal, credential_id: UUID) -> Validation:
        async with self.pool.acquire() as conn:
            credential, _ = await self._accessible(conn, principal, credential_id)
        secrets = self._open(credential)
        if isinstance(secrets, AwsCredentials):
            return await self.validator.aws(secrets)
        base_url = self.validator.base_url_of(credential.provider, credential.base_url)
        if credential.provider == "openai-compatible" and base_url is not None:
            # Resolved again: the name may point elsewhere than when it was stored.
            base_url = await checked_base_url(
                base_url, production=self.production, resolver=self.resolver
            )
        assert base_url is not None  # only Bedrock may have none
        return await self.validator.api_key(credential.provider, base_url, secrets.api_key)

    async def resolve(
        self, user_id: str, team_id: UUID | None, providers: list[str]
    ) -> CredentialLookup:
        """The newest credential of the team (when given) or else of the user, for one of
        ``providers``: only the team's for a team's request, never the user's own."""
        owner = Owner(None, team_id) if team_id is not None else Owner(user_id, None)
        async with self.pool.acquire() as conn:
            credential = await repository.newest_for(conn, owner, providers)
        if credential is None:
            return CredentialLookup(credential=None)
        secrets = self._open(credential)
        resolved = ResolvedCredential(
            id=credential.id,
            provider=credential.provider,
            base_url=self.validator.base_url_of(credential.provider, credential.base_url),
        )
        if isinstance(secrets, AwsCredentials):
            resolved = resolved.model_copy(update=secrets.model_dump())
        else:
            resolved = resolved.model_copy(update={"api_key": secrets.api_key})
        log.info(
            "byok credential handed out",
            extra={"credentialId": str(credential.id), "provider": credential.provider},
        )
        return CredentialLookup(credential=resolved)

    def _open(self, credential: Credential) -> Secrets:
        try:
            return open_secrets(self.box, credential.id, credential.provider, credential.sealed)
        except SecretNotReadable:
            log.error("byok credential not readable", extra={"credentialId": str(credential.id)})
            raise unreadable() from None

    async def _owner_for(
        self, conn: Connection, principal: Principal, team_id: UUID | None
    ) -> tuple[Owner, UUID | None]:
        """The caller's own credentials, or the team's when the caller manages it (404 for a
        team that is not theirs to see, 403 for a member who does not manage it)."""
        if team_id is None:
            return Owner(principal.user_id, None), None
        team = await managed_team(conn, team_id, principal)
        return Owner(None, team.id), team.organization_id

    async def _accessible(
        self, conn: Connection, principal: Principal, credential_id: UUID
    ) -> tuple[Credential, UUID | None]:
        credential = await repository.by_id(conn, credential_id)
        if credential is None:
            raise unknown_credential()
        if credential.team_id is None:
            if credential.user_id != principal.user_id:
                raise unknown_credential()
            return credential, None
        try:
            team = await managed_team(conn, credential.team_id, principal)
        except ApiError:  # not theirs to see, or a member who does not manage the team
            raise unknown_credential() from None
        return credential, team.organization_id

    @staticmethod
    async def _audit(
        conn: Connection,
        principal: Principal,
        action: str,
        credential: Credential,
        organization_id: UUID | None,
    ) -> None:
        shown = {
            "provider": credential.provider,
            "label": credential.label,
            "last4": credential.last4,
            "teamId": credential.team_id,
            "baseUrl": credential.base_url,
        }
        await record(
            conn,
            Actor.of(principal),
            action,
            target_type="byok_key",
            target_id=credential.id,
            organization_id=organization_id,
            before=shown if action.endswith("deleted") else None,
            after=shown if action.endswith("created") else None,
        )


def byok_service(pool: asyncpg.Pool, settings: ByokSettings, *, production: bool) -> ByokService:
    endpoints = ProviderEndpoints(
        openai=settings.byok_openai_base_url,
        anthropic=settings.byok_anthropic_base_url,
        bedrock=settings.byok_bedrock_endpoint_url or None,
        timeout=settings.byok_validate_timeout_seconds,
    )
    return ByokService(
        pool,
        SecretBox(*settings.byok_keys),
        Validator(endpoints),
        production=production,
        max_keys=settings.max_byok_keys,
    )
