from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import Teams
from provisioning.teams.schemas import TeamCreate, TeamList, TeamOut
from service_kit import error_responses

router = APIRouter(prefix="/api/teams", tags=["teams"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a team with its own credit account (organization owners and admins)",
    responses=error_responses(400, 401, 403, 404, 409, 422, 503),
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
