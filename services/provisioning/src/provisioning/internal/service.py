"""An organization as another service sees it: who holds which role, which accounts are its."""

from uuid import UUID

import asyncpg

from provisioning.internal.schemas import OrganizationAccess, TeamAccount
from provisioning.memberships import repository as memberships
from provisioning.memberships.access import unknown_organization
from provisioning.organizations import repository as organizations
from provisioning.teams import repository as teams


async def organization_access(pool: asyncpg.Pool, org_id: UUID, user_id: str) -> OrganizationAccess:
    """``user_id``'s role in the live organization and its teams; 404 when it is unknown or
    deleted. The caller decides what the role allows (a platform admin is not a member)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        if await organizations.live(conn, org_id) is None:
            raise unknown_organization()
        role = await memberships.role_of(conn, org_id, user_id)
        org_teams = await teams.of_org(conn, org_id)
    return OrganizationAccess(
        role=role,
        teams=[TeamAccount(id=team.id, account_id=team.account_id) for team in org_teams],
    )
