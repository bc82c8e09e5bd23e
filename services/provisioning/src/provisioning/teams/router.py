from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Teams
from provisioning.teams.schemas import TeamCreate, TeamFunding, TeamFundingOut, TeamList, TeamOut
from service_kit import Text, error_responses

router = APIRouter(prefix="/api/teams", tags=["teams"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a team with its own credit account (organization owners and admins); "
    "initialCredits move from the caller's own balance, and when it is short → 402 and no "
    "team is made (a platform admin grants them instead)",
    responses=error_responses(400, 401, 402, 403, 404, 409, 422, 503),
)
async def create_team(body: TeamCreate, principal: CurrentPrincipal, teams: Teams) -> TeamOut:
    return await teams.create(principal, body)


@router.get(
    "",
    summary="An organization's teams (its owners and admins)",
    responses=error_responses(401, 403, 404, 422),
)
async def list_teams(
    organization_id: Annotated[UUID, Query(alias="organizationId")],
    principal: CurrentPrincipal,
    teams: Teams,
) -> TeamList:
    return await teams.of_org(principal, organization_id)


@router.get(
    "/{team_id}",
    summary="One team, with its available credits (organization owners and admins)",
    responses=error_responses(401, 403, 404),
)
async def get_team(team_id: UUID, principal: CurrentPrincipal, teams: Teams) -> TeamOut:
    return await teams.get(principal, team_id)


@router.post(
    "/{team_id}/credits",
    status_code=status.HTTP_201_CREATED,
    summary="Fund a team: move credits from the caller's own available balance to the team in "
    "one ledger transaction (organization owners and admins; 402 when short). A platform admin "
    "funds from nothing (an audited grant)",
    description="The same `Idempotency-Key` (per caller) moves credits once: a repeat answers "
    "201 with `Idempotent-Replayed: true` and the balances as they are now; the key with "
    "another amount → 422 `idempotency_key_reused`. Every funding is in the audit log "
    "(`team.funded`).",
    responses=error_responses(400, 401, 402, 403, 404, 422, 503),
)
async def fund_team(
    team_id: UUID,
    body: TeamFunding,
    principal: CurrentPrincipal,
    teams: Teams,
    response: Response,
    idempotency_key: Annotated[
        Text | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> TeamFundingOut:
    funding, applied = await teams.fund(principal, team_id, body, idempotency_key)
    if not applied:
        response.headers["Idempotent-Replayed"] = "true"
    return funding
