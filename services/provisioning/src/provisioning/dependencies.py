"""Typed aliases for what routes receive."""

from typing import Annotated

import asyncpg
from fastapi import Depends

from provisioning.memberships.service import MembershipsService
from provisioning.model_groups.service import ModelGroupsService
from provisioning.organizations.service import OrganizationsService
from provisioning.plans.service import PlansService
from provisioning.team_keys.service import TeamKeysService
from provisioning.teams.service import TeamsService
from service_kit import app_state

Pool = Annotated[asyncpg.Pool, Depends(app_state("pool"))]
Organizations = Annotated[OrganizationsService, Depends(app_state("organizations"))]
Memberships = Annotated[MembershipsService, Depends(app_state("memberships"))]
ModelGroups = Annotated[ModelGroupsService, Depends(app_state("model_groups"))]
Teams = Annotated[TeamsService, Depends(app_state("teams"))]
TeamKeys = Annotated[TeamKeysService, Depends(app_state("team_keys"))]
Plans = Annotated[PlansService, Depends(app_state("plans"))]
