"""``/internal/byok``: the decrypted credential, for chat's call to the provider only (scope
``byok:read``; a user's token is 403 ``service_only``, and the gateway never routes it)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import BYOK_READ
from provisioning.byok.catalog import ProviderId
from provisioning.byok.dependencies import Byok
from provisioning.byok.schemas import CredentialLookup
from service_kit import Text, error_responses

router = APIRouter(
    prefix="/internal/byok",
    tags=["bring your own key (internal)"],
    responses=error_responses(401, 403, 422),
)


@router.get(
    "/credentials",
    summary="The newest credential of a team, or of a user, for one of the providers (byok:read)",
    description="With `teamId`: the team's only (a team's request never uses a member's own "
    "credential); without: the user's own. `credential` is null when there is none.",
    dependencies=[Depends(require_scope(BYOK_READ))],
    responses=error_responses(503),
)
async def credentials(
    byok: Byok,
    user_id: Annotated[Text, Query(alias="userId", min_length=1, max_length=254)],
    provider: Annotated[list[ProviderId], Query(min_length=1, max_length=4)],
    team_id: Annotated[UUID | None, Query(alias="teamId")] = None,
) -> CredentialLookup:
    return await byok.resolve(user_id, team_id, list(provider))
