"""Routes for API keys.

``/internal/api-keys`` is for the platform's own services, each with its service token:
provisioning mints, lists, revokes and rotates keys there (``api-keys:manage``) after checking
who may; the gateway trades a key for a short-lived token at ``/internal/api-keys/exchange``
(``api-keys:exchange``). ``/internal`` sits outside every gateway prefix.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from auth.api_keys.schemas import (
    ExchangeRequest,
    ExchangeResponse,
    KeyList,
    KeyOut,
    MintedKey,
    MintKeyRequest,
    RotateRequest,
)
from auth.api_keys.service import ApiKeysService
from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import API_KEYS_EXCHANGE, API_KEYS_MANAGE
from service_kit import Text, app_state, error_responses

Keys = Annotated[ApiKeysService, Depends(app_state("api_keys"))]

internal = APIRouter(
    prefix="/internal/api-keys",
    tags=["api keys (internal)"],
    dependencies=[Depends(require_scope(API_KEYS_MANAGE))],
    responses=error_responses(401, 403, 422),
)
exchanges = APIRouter(
    prefix="/internal/api-keys",
    tags=["api keys (internal)"],
    dependencies=[Depends(require_scope(API_KEYS_EXCHANGE))],
    responses=error_responses(401, 403, 422),
)


@internal.post("", status_code=status.HTTP_201_CREATED, summary="Mint a team API key")
async def mint(body: MintKeyRequest, keys: Keys) -> MintedKey:
    return await keys.mint(body)


@internal.get("", summary="A team's keys, without secrets")
async def list_keys(
    team_id: Annotated[Text, Query(alias="teamId", min_length=1, max_length=100)], keys: Keys
) -> KeyList:
    return await keys.list_for_team(team_id)


@internal.delete("/{key_id}", summary="Revoke a key", responses=error_responses(404))
async def revoke(key_id: UUID, keys: Keys) -> KeyOut:
    return await keys.revoke(key_id)


@internal.post(
    "/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    summary="A new key; the old one works for the grace period",
    responses=error_responses(404),
)
async def rotate(key_id: UUID, body: RotateRequest, keys: Keys) -> MintedKey:
    return await keys.rotate(key_id, body)


@exchanges.post(
    "/exchange",
    summary="Trade a team API key for a short-lived access token acting as the team",
    responses=error_responses(401, 422),
)
async def exchange(body: ExchangeRequest, keys: Keys) -> ExchangeResponse:
    return await keys.exchange(body.api_key)
