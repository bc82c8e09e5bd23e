"""The invitations service a route receives: a view over the process's pool (built per request,
which costs nothing; it holds no state of its own)."""

from typing import Annotated

from fastapi import Depends

from provisioning.dependencies import Pool
from provisioning.invitations.config import invitation_settings
from provisioning.invitations.service import InvitationsService


async def invitations_service(pool: Pool) -> InvitationsService:
    return InvitationsService(pool, invitation_settings().ttl)


Invitations = Annotated[InvitationsService, Depends(invitations_service)]
