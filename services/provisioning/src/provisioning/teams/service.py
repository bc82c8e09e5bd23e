"""Teams: a named group inside an organization with its own credit account and models."""

import logging
import uuid
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.accounting import AccountingClient
from provisioning.credits import parse_credits, wire
from provisioning.memberships.access import org_access
from provisioning.model_groups.service import resolve_groups
from provisioning.teams import repository
from provisioning.teams.schemas import TeamCreate, TeamList, TeamOut
from service_kit import ApiError

log = logging.getLogger(__name__)


def team_name_taken(name: str) -> ApiError:
    return ApiError(409, "name_taken", f"The organization already has a team called {name}")


async def managed_team(conn: asyncpg.Connection, team_id: UUID, principal: Principal):
    """The team, when the caller manages its organization; 404 when it is not theirs to see."""
    team = await repository.by_id(conn, team_id)
    if team is None:
        raise ApiError(404, "not_found", "Unknown team")
    try:
        await org_access(conn, team["organization_id"], principal, manage=True)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(404, "not_found", "Unknown team") from None
        raise
    return team


@dataclass
class TeamsService:
    pool: asyncpg.Pool
    accounting: AccountingClient

    async def create(self, principal: Principal, request: TeamCreate) -> TeamOut:
        """The team row commits only after accounting has its account (and initial credits).

        The grant is keyed by the team's id, so a retried call never funds an account twice;
        if this transaction then fails, the account is left unreferenced and holds nothing
        anyone can spend.
        """
        name, team_id = request.name.strip(), uuid.uuid4()
        async with self.pool.acquire() as conn, conn.transaction():
            await org_access(conn, request.organization_id, principal, manage=True)
            groups = await resolve_groups(conn, request.model_groups)
            if await repository.name_taken(conn, request.organization_id, name):
                raise team_name_taken(name)
            account = await self._open_account(team_id, request, principal)
            try:
                row = await repository.insert(
                    conn,
                    team_id=team_id,
                    org_id=request.organization_id,
                    name=name,
                    model_groups=groups.names,
                    account_id=UUID(account["accountId"]),
                    by=principal.user_id,
                )
            except asyncpg.UniqueViolationError:
                raise team_name_taken(name) from None
            team = _out(row, groups.models, request.initial_credits or parse_credits(0))
            await record(
                conn,
                Actor.of(principal),
                "team.created",
                target_type="team",
                target_id=team_id,
                organization_id=request.organization_id,
                after=team,
            )
        return team

    async def _open_account(self, team_id: UUID, request: TeamCreate, principal: Principal):
        if not request.initial_credits:
            return await self.accounting.ensure_account(owner_type="team", owner_id=str(team_id))
        return await self.accounting.grant(
            owner_type="team",
            owner_id=str(team_id),
            credits=wire(request.initial_credits),
            idempotency_key=f"team-initial:{team_id}",
            granted_by=principal.user_id,
            notes=f"initial credits of team {request.name.strip()}",
        )

    async def get(self, principal: Principal, team_id: UUID) -> TeamOut:
        async with self.pool.acquire() as conn:
            team = await managed_team(conn, team_id, principal)
            groups = await resolve_groups(conn, team["model_groups"])
        return _out(team, groups.models, await self._credits(team["account_id"]))

    async def of_org(self, principal: Principal, org_id: UUID) -> TeamList:
        async with self.pool.acquire() as conn:
            await org_access(conn, org_id, principal, manage=True)
            rows = await repository.of_org(conn, org_id)
            teams = []
            for row in rows:
                groups = await resolve_groups(conn, row["model_groups"])
                teams.append(_out(row, groups.models, await self._credits(row["account_id"])))
        return TeamList(teams=teams)

    async def _credits(self, account_id: UUID):
        try:
            account = await self.accounting.account(account_id)
        except ApiError as exc:
            log.warning("team balance unavailable", extra={"error": exc.message})
            return None
        return parse_credits(account["availableCredits"])


def _out(row: asyncpg.Record, models: list[str], credits) -> TeamOut:
    return TeamOut(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        model_groups=list(row["model_groups"]),
        models=models,
        account_id=row["account_id"],
        credits=credits,
        created_by=row["created_by"],
        created_at=row["created_at"],
    )
