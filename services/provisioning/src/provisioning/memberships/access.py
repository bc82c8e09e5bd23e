"""Who may see or manage an organization: its members see it, owners and admins manage it.

Platform admins may do both everywhere. Someone who is not a member gets 404, not 403, so
the existence of another tenant's organization is not revealed.
"""

from dataclasses import dataclass
from uuid import UUID

from jwt_contract import Principal
from provisioning.database import Connection
from provisioning.memberships import repository as memberships
from provisioning.memberships.schemas import OrgRole
from provisioning.organizations import repository as organizations
from provisioning.organizations.repository import Organization
from service_kit import ApiError

MANAGERS = ("owner", "admin")


@dataclass(frozen=True)
class OrgAccess:
    org: Organization
    role: OrgRole | None  # the caller's role in it (None: not a member)
    platform_admin: bool

    @property
    def is_owner(self) -> bool:
        return self.role == "owner" or self.platform_admin


def unknown_organization() -> ApiError:
    return ApiError(404, "not_found", "Unknown organization")


async def org_access(
    conn: Connection, org_id: UUID, principal: Principal, *, manage: bool
) -> OrgAccess:
    org = await organizations.live(conn, org_id)
    if org is None:
        raise unknown_organization()
    role = await memberships.role_of(conn, org_id, principal.user_id)
    if principal.has_role("admin"):
        return OrgAccess(org, role, platform_admin=True)
    if role is None:
        raise unknown_organization()
    if manage and role not in MANAGERS:
        raise ApiError(403, "forbidden", "Only the organization's owners and admins can do this")
    return OrgAccess(org, role, platform_admin=False)
