"""Teams: a named group inside an organization with its own credit account and models."""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.accounting import AccountingClient
from provisioning.credits import wire
from provisioning.database import Connection
from provisioning.idempotent import Once, key_reused
from provisioning.memberships.access import org_access
from provisioning.model_groups.service import resolve_groups
from provisioning.teams import repository
from provisioning.teams.repository import Team
from provisioning.teams.schemas import (
    TeamCreate,
    TeamFunding,
    TeamFundingOut,
    TeamList,
    TeamOut,
)
from service_kit import ApiError

log = logging.getLogger(__name__)


def team_name_taken(name: str) -> ApiError:
    return ApiError(409, "name_taken", f"The organization already has a team called {name}")


async def managed_team(conn: Connection, team_id: UUID, principal: Principal) -> Team:
    """The team, when the caller manages its organization; 404 when it is not theirs to see."""
    team = await repository.by_id(conn, team_id)
    if team is None:
        raise ApiError(404, "not_found", "Unknown team")
    try:
        await org_access(conn, team.organization_id, principal, manage=True)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(404, "not_found", "Unknown team") from None
        raise
    return team


# Names a caller's Idempotency-Key for a team funding: uuid5(namespace, caller and key).
_FUNDING_KEYS = uuid.UUID("0e7d1a52-7a4f-4c55-8f9b-3c2b1e6d8a10")
# Names the team a caller's Idempotency-Key creates: uuid5(namespace, caller and key).
_TEAM_IDS = uuid.UUID("7c1e9b40-55d2-4a8e-b0f3-6a2d9c4e1f27")


def funding_key(team_id: UUID, once: Once) -> str:
    """Accounting's idempotency key for a funding sent with an ``Idempotency-Key``: the same
    for every retry of the caller's key (accounting keeps it for good, so even past the 24 h
    here the key never moves credits twice)."""
    named = uuid.uuid5(_FUNDING_KEYS, f"{once.caller}\n{once.request.key}")
    return f"team-credits:{team_id}:{named}"


def team_id_of(once: Once) -> UUID:
    return uuid.uuid5(_TEAM_IDS, f"{once.caller}\n{once.request.key}")


@dataclass(frozen=True)
class Funding:
    """Credits that reached a team: moved from the caller (``transfer``) or made (``grant``)."""

    source: Literal["transfer", "grant"]
    id: UUID  # the transfer's, or the granted allocation's
    account_id: UUID
    credits: Decimal
    applied: bool  # False: the key had funded the team before; nothing moved now
    team_credits: Decimal | None = None
    caller_credits: Decimal | None = None
    from_account_id: UUID | None = None


async def _record_funding(
    conn: Connection, principal: Principal, team: Team, funding: Funding
) -> None:
    await record(
        conn,
        Actor.of(principal),
        "team.funded",
        target_type="team",
        target_id=team.id,
        organization_id=team.organization_id,
        after={
            "credits": str(funding.credits),
            "source": funding.source,
            "transferId": funding.id if funding.source == "transfer" else None,
            "allocationId": funding.id if funding.source == "grant" else None,
            "fromAccountId": funding.from_account_id,
            "accountId": funding.account_id,
        },
    )


@dataclass
class TeamsService:
    pool: asyncpg.Pool
    accounting: AccountingClient

    async def create(
        self, principal: Principal, request: TeamCreate, once: Once | None = None
    ) -> TeamOut | StoredResponse:
        """The team row commits only after accounting has its account (and initial credits).

        The row is written before the team is funded, so a racer that loses the name (409)
        has moved nothing, and a funding refused (402) rolls the row back: no team is made,
        and the account accounting opened for it holds nothing and is referenced by no one.
        Initial credits are funded with the key ``team-initial:{teamId}``.

        With an ``Idempotency-Key`` the team's id is named by the caller and the key: a retry
        after a crash between accounting's commit and this one opens the same account and
        finds its initial credits moved, so they move once. A kept response is returned as is.
        """
        name = request.name.strip()
        team_id = uuid.uuid4() if once is None else team_id_of(once)
        async with self.pool.acquire() as conn, conn.transaction():
            await org_access(conn, request.organization_id, principal, manage=True)
            if once is not None:
                if (kept := await once.claim(conn)) is not None:
                    return kept
                if await repository.by_id(conn, team_id) is not None:  # the key, past 24 h
                    raise key_reused()
            groups = await resolve_groups(conn, request.model_groups)
            if await repository.name_taken(conn, request.organization_id, name):
                raise team_name_taken(name)
            account = await self.accounting.ensure_account(owner_type="team", owner_id=str(team_id))
            try:
                team = await repository.insert(
                    conn,
                    team_id=team_id,
                    org_id=request.organization_id,
                    name=name,
                    model_groups=groups.names,
                    account_id=account.account_id,
                    by=principal.user_id,
                )
            except asyncpg.UniqueViolationError:
                raise team_name_taken(name) from None
            funding = None
            if request.initial_credits:
                funding = await self._fund(
                    principal,
                    team,
                    request.initial_credits,
                    key=f"team-initial:{team_id}",
                    notes=f"initial credits of team {name}",
                )
            created = _out(team, groups.models, funding.credits if funding else Decimal(0))
            await record(
                conn,
                Actor.of(principal),
                "team.created",
                target_type="team",
                target_id=team_id,
                organization_id=request.organization_id,
                after=created,
            )
            if funding is not None:
                await _record_funding(conn, principal, team, funding)
            if once is not None:
                await once.record(conn, created)
        return created

    async def fund(
        self,
        principal: Principal,
        team_id: UUID,
        request: TeamFunding,
        once: Once | None = None,
    ) -> TeamFundingOut | StoredResponse:
        """Fund the team out of the caller's own balance (a platform admin's: from nothing);
        or, for an ``Idempotency-Key`` the caller already used with this body, the response it
        got then (and nothing moves).

        The key is claimed in the transaction that audits the funding and keeps its response.
        The accounting operation is named by the caller and the key (:func:`funding_key`), not
        by the claim: a retry after a crash between accounting's commit and this one finds the
        credits moved already, moves nothing again, and audits the funding the crash lost.
        Without a key every call moves credits.
        """
        if once is None:
            key = f"team-credits:{team_id}:{uuid.uuid4()}"
        else:
            key = funding_key(team_id, once)
        async with self.pool.acquire() as conn, conn.transaction():
            team = await managed_team(conn, team_id, principal)
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            funding = await self._fund(
                principal, team, request.credits, key=key, notes=f"funding of team {team.name}"
            )
            if funding.applied or not await repository.funding_audited(conn, team.id, funding.id):
                await _record_funding(conn, principal, team, funding)
            team_credits = funding.team_credits
            if team_credits is None:
                team_credits = await self._credits(team.account_id)
            out = TeamFundingOut(
                team_id=team_id,
                account_id=funding.account_id,
                credits=funding.credits,
                source=funding.source,
                transfer_id=funding.id if funding.source == "transfer" else None,
                allocation_id=funding.id if funding.source == "grant" else None,
                team_credits=team_credits,
                caller_credits=funding.caller_credits,
            )
            if once is not None:
                await once.record(conn, out)
        return out

    async def _fund(
        self, principal: Principal, team: Team, credits: Decimal, *, key: str, notes: str
    ) -> Funding:
        """Credits for the team. No one but a platform admin makes credits: an admin's are
        granted (an allocation); anyone else's move from their own available balance in one
        ledger transaction (402 when they have less)."""
        if principal.has_role("admin"):
            granted = await self.accounting.grant(
                owner_type="team",
                owner_id=str(team.id),
                credits=wire(credits),
                idempotency_key=key,
                granted_by=principal.user_id,
                notes=notes,
            )
            return Funding(
                source="grant",
                id=granted.allocation_id,
                account_id=granted.account_id,
                credits=credits,
                applied=granted.applied,
            )
        moved = await self.accounting.transfer(
            from_owner_type="user",
            from_owner_id=principal.user_id,
            to_account_id=team.account_id,
            credits=wire(credits),
            idempotency_key=key,
            requested_by=principal.user_id,
            notes=notes,
        )
        return Funding(
            source="transfer",
            id=moved.transfer_id,
            account_id=moved.to_account_id,
            credits=moved.credits,
            applied=moved.applied,
            team_credits=moved.to_available_credits,
            caller_credits=moved.from_available_credits,
            from_account_id=moved.from_account_id,
        )

    async def get(self, principal: Principal, team_id: UUID) -> TeamOut:
        async with self.pool.acquire() as conn:
            team = await managed_team(conn, team_id, principal)
            groups = await resolve_groups(conn, team.model_groups)
        return _out(team, groups.models, await self._credits(team.account_id))

    async def of_org(self, principal: Principal, org_id: UUID) -> TeamList:
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
            teams = []
            for team in await repository.of_org(conn, org_id):
                groups = await resolve_groups(conn, team.model_groups)
                teams.append(_out(team, groups.models, await self._credits(team.account_id)))
        return TeamList(teams=teams)

    async def _credits(self, account_id: UUID) -> Decimal | None:
        try:
            account = await self.accounting.account(account_id)
        except ApiError as exc:
            log.warning("team balance unavailable", extra={"error": exc.message})
            return None
        return account.available_credits


def _out(team: Team, models: list[str], credits: Decimal | None) -> TeamOut:
    return TeamOut(
        id=team.id,
        organization_id=team.organization_id,
        name=team.name,
        model_groups=list(team.model_groups),
        models=models,
        account_id=team.account_id,
        credits=credits,
        created_by=team.created_by,
        created_at=team.created_at,
    )
