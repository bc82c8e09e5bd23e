"""Team API keys: auth mints, stores (as a hash) and verifies them; provisioning decides who may
ask, scopes each key to the team's account and models, and audits every change."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.auth import AuthClient, unknown_key
from provisioning.model_groups.service import resolve_groups
from provisioning.team_keys.schemas import KeyCreate, KeyList, KeyOut, KeyRotate, MintedKey
from provisioning.teams.repository import Team
from provisioning.teams.service import managed_team


@dataclass
class TeamKeysService:
    pool: asyncpg.Pool
    auth: AuthClient

    async def create(self, principal: Principal, team_id: UUID, request: KeyCreate) -> MintedKey:
        async with self.pool.acquire() as conn:
            team = await managed_team(conn, team_id, principal)
            groups = await resolve_groups(conn, team.model_groups)
        minted = await self.auth.mint_key(
            team_id=team_id,
            organization_id=team.organization_id,
            account_id=team.account_id,
            name=request.name.strip(),
            models=groups.models,
            expires_in_days=request.expires_in_days,
            created_by=principal.user_id,
        )
        await self._audit(
            principal,
            team,
            "team_key.created",
            minted.id,
            after={"name": request.name, "prefix": minted.prefix, "expiresAt": minted.expires_at},
        )
        return minted

    async def list(self, principal: Principal, team_id: UUID) -> KeyList:
        async with self.pool.acquire() as conn:
            await managed_team(conn, team_id, principal)
        return KeyList(keys=await self.auth.team_keys(team_id))

    async def revoke(self, principal: Principal, team_id: UUID, key_id: UUID) -> KeyOut:
        team, before = await self._team_key(principal, team_id, key_id)
        revoked = await self.auth.revoke_key(key_id)
        await self._audit(principal, team, "team_key.revoked", key_id, before=before, after=revoked)
        return revoked

    async def rotate(
        self, principal: Principal, team_id: UUID, key_id: UUID, request: KeyRotate
    ) -> MintedKey:
        team, before = await self._team_key(principal, team_id, key_id)
        minted = await self.auth.rotate_key(
            key_id, grace_period_seconds=request.grace_period_seconds, created_by=principal.user_id
        )
        after = {
            "replacedBy": minted.id,
            "prefix": minted.prefix,
            "gracePeriodSeconds": request.grace_period_seconds,
        }
        await self._audit(principal, team, "team_key.rotated", key_id, before=before, after=after)
        return minted

    async def _team_key(
        self, principal: Principal, team_id: UUID, key_id: UUID
    ) -> tuple[Team, KeyOut]:
        async with self.pool.acquire() as conn:
            team = await managed_team(conn, team_id, principal)
        for key in await self.auth.team_keys(team_id):
            if key.id == key_id:
                return team, key
        raise unknown_key()

    async def _audit(
        self,
        principal: Principal,
        team: Team,
        action: str,
        key_id: UUID,
        *,
        before: Any = None,
        after: Any = None,
    ) -> None:
        async with self.pool.acquire() as conn:
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
