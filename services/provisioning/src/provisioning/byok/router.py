"""``/api/byok``: provider credentials a user stores for themselves or a team they manage."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.byok.catalog import ProviderOut
from provisioning.byok.dependencies import Byok
from provisioning.byok.schemas import KeyCreate, KeyList, KeyOut, Validation
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from service_kit import error_responses

router = APIRouter(prefix="/api/byok", tags=["bring your own key"])


@router.get(
    "/providers",
    summary="The providers a credential may be for, and the fields each one takes",
    responses=error_responses(401),
)
async def providers(_: CurrentPrincipal, byok: Byok) -> list[ProviderOut]:
    return byok.providers()


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    summary="Store a provider credential, for yourself or (`teamId`) a team you manage",
    description="The secret fields are encrypted at rest (AES-256-GCM) and never returned: "
    "only their last 4 characters (`last4`). Chat then calls the provider with the newest "
    "credential of the caller (or of the team, for the team's requests) for the model's "
    "provider, and the usage is charged the BYOK fee instead of the model's price. A member "
    "of the team who is not its organization's owner or admin → 403; a team not theirs to "
    f"see → 404. {REPLAY_DESCRIPTION}",
    response_model=KeyOut,
    responses=idempotent_responses(201, 401, 403, 404, 409, 503),
)
async def create_key(
    body: KeyCreate, principal: CurrentPrincipal, byok: Byok, idempotent: IdempotencyKey
) -> KeyOut | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await byok.create(principal, body, once), once)


@router.get(
    "/keys",
    summary="Your own credentials, or (`teamId`) a team's you manage; never the secrets",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def list_keys(
    principal: CurrentPrincipal,
    byok: Byok,
    team_id: Annotated[UUID | None, Query(alias="teamId")] = None,
) -> KeyList:
    return await byok.list_keys(principal, team_id)


@router.delete(
    "/keys/{key_id}",
    summary="Delete a credential (yours, or a team's you manage); chat stops using it within "
    "its cache time",
    responses=error_responses(401, 404, 503),
)
async def delete_key(key_id: UUID, principal: CurrentPrincipal, byok: Byok) -> KeyOut:
    return await byok.delete(principal, key_id)


@router.post(
    "/keys/{key_id}/validate",
    summary="Call the provider with the credential: whether it is accepted",
    description="The provider's cheapest authenticated call (OpenAI and OpenAI-compatible "
    "`GET /v1/models` with the bearer key, Anthropic `GET /v1/models` with `x-api-key`, "
    "Bedrock `ListFoundationModels`). 200 whatever the provider says: `valid` false with "
    "`providerStatus` 401/403 when it refused the credential, null when it was unreachable.",
    responses=error_responses(401, 404, 422, 503),
)
async def validate_key(key_id: UUID, principal: CurrentPrincipal, byok: Byok) -> Validation:
    return await byok.validate(principal, key_id)
