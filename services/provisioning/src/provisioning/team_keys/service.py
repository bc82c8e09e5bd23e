"""Team API keys: auth mints, stores (as a hash) and verifies them; provisioning decides who may
ask, scopes each key to the team's account and models, and audits every change.

A mint or rotation sent with an ``Idempotency-Key`` calls auth with a key of its own, named by
the caller, their key and the team (:func:`auth_key`): a retry after a crash between auth's
commit and this one gets the key auth minted then, instead of a second one.
"""

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.auth import AuthClient, unknown_key
from provisioning.database import Connection
from provisioning.idempotent import Once
from provisioning.model_groups.service import resolve_groups
from provisioning.team_keys.schemas import KeyCreate, KeyList, KeyOut, KeyRotate, MintedKey
from provisioning.teams.repository import Team
from provisioning.teams.service import managed_team

# Names auth's Idempotency-Key for a caller's key: uuid5(namespace, caller, key and team).
_AUTH_KEYS = uuid.UUID("3b9f6c2e-8d41-4f7a-a5e0-1c7d2b9e4f63")


def auth_key(operation: str, team_id: UUID, once: Once | None) -> str | None:
    """Auth's key for a mint or rotation sent with an ``Idempotency-Key``: the same for every
    retry of the caller's key on this team, another for each caller, key, team and operation."""
    if once is None:
        return None
    named = uuid.uuid5(_AUTH_KEYS, f"{once.caller}\n{once.request.key}\n{team_id}\n{operation}")
    return f"team-key-{operation}:{team_id}:{named}"


@dataclass
class TeamKeysService:
    pool: asyncpg.Pool
    auth: AuthClient

    async def create(
        self, principal: Principal, team_id: UUID, request: KeyCreate, once: Once | None = None
    ) -> MintedKey | StoredResponse:
        """The key minted, or the response a key already used with this body got (the secret
        is in it: the caller's retry must be able to learn it)."""
        async with self.pool.acquire() as conn, conn.transaction():
            team = await managed_team(conn, team_id, principal)
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            groups = await resolve_groups(conn, team.model_groups)
            minted = await self.auth.mint_key(
                team_id=team_id,
                organization_id=team.organization_id,
                account_id=team.account_id,
                name=request.name.strip(),
                models=groups.models,
                expires_in_days=request.expires_in_days,
                created_by=principal.user_id,
                idempotency_key=auth_key("mint", team_id, once),
            )
            after = {"name": request.name, "prefix": minted.prefix, "expiresAt": minted.expires_at}
            await _audit(conn, principal, team, "team_key.created", minted.id, after=after)
            if once is not None:
                await once.record(conn, minted)
        return minted

    async def list(self, principal: Principal, team_id: UUID) -> KeyList:
        async with self.pool.acquire() as conn:
            await managed_team(conn, team_id, principal)
        return KeyList(keys=await self.auth.team_keys(team_id))

    async def revoke(self, principal: Principal, team_id: UUID, key_id: UUID) -> KeyOut:
        team, before = await self._team_key(principal, team_id, key_id)
        revoked = await self.auth.revoke_key(key_id)
        async with self.pool.acquire() as conn:
            await _audit(
                conn, principal, team, "team_key.revoked", key_id, before=before, after=revoked
            )
        return revoked

    async def rotate(
        self,
        principal: Principal,
        team_id: UUID,
        key_id: UUID,
        request: KeyRotate,
        once: Once | None = None,
    ) -> MintedKey | StoredResponse:
        async with self.pool.acquire() as conn, conn.transaction():
            team = await managed_team(conn, team_id, principal)
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            before = await self._key_of(team_id, key_id)
            minted = await self.auth.rotate_key(
                key_id,
                grace_period_seconds=request.grace_period_seconds,
                created_by=principal.user_id,
                idempotency_key=auth_key(f"rotate-{key_id}", team_id, once),
            )
            after = {
                "replacedBy": minted.id,
                "prefix": minted.prefix,
                "gracePeriodSeconds": request.grace_period_seconds,
            }
            await _audit(
                conn, principal, team, "team_key.rotated", key_id, before=before, after=after
            )
            if once is not None:
                await once.record(conn, minted)
        return minted

    async def _team_key(
        self, principal: Principal, team_id: UUID, key_id: UUID
    ) -> tuple[Team, KeyOut]:
        async with self.pool.acquire() as conn:
            team = await managed_team(conn, team_id, principal)
        return team, await self._key_of(team_id, key_id)

    async def _key_of(self, team_id: UUID, key_id: UUID) -> KeyOut:
        for key in await self.auth.team_keys(team_id):
            if key.id == key_id:
                return key
        raise unknown_key()


async def _audit(
    conn: Connection,
    principal: Principal,
    team: Team,
    action: str,
    key_id: UUID,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    await record(
        conn,
        Actor.of(principal),
        action,
        target_type="team_key",
        target_id=key_id,
        organization_id=team.organization_id,
        before=before,
        after=after,
    )
