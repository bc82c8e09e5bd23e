from uuid import UUID

from fastapi import APIRouter, Response, status

from idempotency import IdempotencyKey
from jwt_contract.dependencies import CurrentPrincipal
from provisioning.dependencies import TeamKeys
from provisioning.idempotent import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from provisioning.team_keys.schemas import KeyCreate, KeyList, KeyOut, KeyRotate, MintedKey
from service_kit import error_responses

router = APIRouter(prefix="/api/teams/{team_id}/keys", tags=["team API keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Mint an `sk-` key acting as the team (organization owners and admins)",
    description="The key is in this response only. It is charged to the team's account and "
    "may use only the models of the team's model groups. "
    f"{REPLAY_DESCRIPTION} A replay answers the same key again, secret included.",
    response_model=MintedKey,
    responses=idempotent_responses(201, 401, 403, 404, 503),
)
async def create_key(
    team_id: UUID,
    body: KeyCreate,
    principal: CurrentPrincipal,
    keys: TeamKeys,
    idempotent: IdempotencyKey,
) -> MintedKey | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await keys.create(principal, team_id, body, once), once)


@router.get(
    "",
    summary="The team's keys, without secrets, with last-used times",
    responses=error_responses(401, 403, 404, 503),
)
async def list_keys(team_id: UUID, principal: CurrentPrincipal, keys: TeamKeys) -> KeyList:
    return await keys.list(principal, team_id)


@router.delete(
    "/{key_id}",
    summary="Revoke a key; gateways stop accepting it within their cache time",
    responses=error_responses(401, 403, 404, 503),
)
async def revoke_key(
    team_id: UUID, key_id: UUID, principal: CurrentPrincipal, keys: TeamKeys
) -> KeyOut:
    return await keys.revoke(principal, team_id, key_id)


@router.post(
    "/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    summary="Replace a key; the old one keeps working for the grace period",
    description=f"{REPLAY_DESCRIPTION} A replay answers the same new key again, secret included.",
    response_model=MintedKey,
    responses=idempotent_responses(201, 401, 403, 404, 503),
)
async def rotate_key(
    team_id: UUID,
    key_id: UUID,
    body: KeyRotate,
    principal: CurrentPrincipal,
    keys: TeamKeys,
    idempotent: IdempotencyKey,
) -> MintedKey | Response:
    once = Once.of(principal, idempotent, status.HTTP_201_CREATED)
    return answer(await keys.rotate(principal, team_id, key_id, body, once), once)
