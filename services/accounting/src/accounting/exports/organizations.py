"""Whose usage an export by organization covers: provisioning says the caller's role in the
organization and its teams' accounts; its owners and admins export those accounts' usage."""

import logging
from uuid import UUID

from pydantic import ConfigDict, ValidationError

from accounting.schemas import CamelModel
from jwt_contract import Principal
from service_client import ServiceClient
from service_kit import ApiError

log = logging.getLogger(__name__)

MANAGERS = ("owner", "admin")


class _Team(CamelModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    account_id: UUID


class _OrganizationAccess(CamelModel):
    """Provisioning's ``/internal/organizations/{id}/access``, read for what is used here."""

    model_config = ConfigDict(extra="ignore")

    role: str | None
    teams: list[_Team]


def unknown_organization() -> ApiError:
    return ApiError(404, "not_found", "Unknown organization")


def not_a_manager() -> ApiError:
    return ApiError(
        403,
        "forbidden",
        "Only the organization's owners and admins may export its usage",
    )


async def team_accounts(
    provisioning: ServiceClient, principal: Principal, organization_id: UUID
) -> tuple[UUID, ...]:
    """The accounts of the organization's teams, when the caller is one of its owners or
    admins (or a platform admin); 404 for an unknown or deleted organization, 403 for anyone
    else, 503 while provisioning is unreachable."""
    reply = await provisioning.request(
        "GET",
        "/internal/organizations/{}/access",
        str(organization_id),
        params={"userId": principal.user_id},
    )
    if reply.status == 404:
        raise unknown_organization()
    if reply.status != 200:
        raise provisioning.unexpected(reply)
    try:
        access = _OrganizationAccess.model_validate(reply.json())
    except ValidationError:
        raise provisioning.unexpected(reply) from None
    if access.role not in MANAGERS and not principal.has_role("admin"):
        log.info(
            "organization export refused",
            extra={"organizationId": str(organization_id), "role": access.role},
        )
        raise not_a_manager()
    return tuple(team.account_id for team in access.teams)
