from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Teams
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.teams.schemas import TeamCreate, TeamFunding, TeamFundingOut, TeamList, TeamOut
from service_kit import error_responses

router = APIRouter(prefix="/api/teams", tags=["teams"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a team with its own credit account (organization owners and admins); "
    "initialCredits move from the caller's own balance, and when it is short → 402 and no "
    "team is made (a platform admin grants them instead)",
    description=f"{REPLAY_DESCRIPTION} The key names the team, so its initial credits move "
    "once even when a retry follows a lost answer.",
    response_model=TeamOut,
    responses=idempotent_responses(201, 400, 401, 402, 403, 404, 409, 503),
)
async def create_team(
    body: TeamCreate, principal: CurrentPrincipal, teams: Teams, idempotent: IdempotencyKey
) -> TeamOut | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await teams.create(principal, body, once), once)


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
    description=f"{REPLAY_DESCRIPTION} The key (with the caller) also names the operation at "
    "accounting, so credits move once per key even when a retry follows a lost answer or a "
    "crash, and even after the 24 h. Every funding is in the audit log (`team.funded`).",
    response_model=TeamFundingOut,
    responses=idempotent_responses(201, 400, 401, 402, 403, 404, 503),
)
async def fund_team(
    team_id: UUID,
    body: TeamFunding,
    principal: CurrentPrincipal,
    teams: Teams,
    idempotent: IdempotencyKey,
) -> TeamFundingOut | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await teams.fund(principal, team_id, body, once), once)
