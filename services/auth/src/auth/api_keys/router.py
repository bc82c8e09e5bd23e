"""Routes for API keys.

``/api/auth/api-keys`` is a user's own personal keys, with the user's own access token.

``/internal/api-keys`` is for the platform's own services, each with its service token:
provisioning mints, lists, revokes and rotates keys there (``api-keys:manage``) after checking
who may; the gateway trades a key for a short-lived token at ``/internal/api-keys/exchange``
(``api-keys:exchange``). ``/internal`` sits outside every gateway prefix.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from auth.api_keys.dependencies import KeyOwner
from auth.api_keys.personal import PersonalKeysService
from auth.api_keys.schemas import (
    ExchangeRequest,
    ExchangeResponse,
    KeyList,
    KeyOut,
    MintedKey,
    MintedPersonalKey,
    MintKeyRequest,
    PersonalKeyList,
    PersonalKeyOut,
    PersonalKeyRequest,
    RotateRequest,
)
from auth.api_keys.service import ApiKeysService
from auth.idempotent import REPLAY_DESCRIPTION, ReplayKeeper, answer, idempotent_responses
from idempotency import IdempotencyKey
from jwt_contract import ServicePrincipal
from jwt_contract.dependencies import require_scope
from jwt_contract.scopes import API_KEYS_EXCHANGE, API_KEYS_MANAGE
from service_kit import Text, app_state, error_responses

Keys = Annotated[ApiKeysService, Depends(app_state("api_keys"))]
PersonalKeys = Annotated[PersonalKeysService, Depends(app_state("personal_keys"))]

personal = APIRouter(
    prefix="/api/auth/api-keys",
    tags=["api keys"],
    responses={
        **error_responses(401),
        403: {
            "description": "A service token, or a token exchanged for an API key: only a "
            "user signed in as themselves manages their keys (`forbidden`); a user whose role "
            "is in REQUIRE_2FA_ROLES without 2FA on (`mfa_setup_required`)",
            "model": error_responses(403)[403]["model"],
        },
    },
)

_ACTS_AS_OWNER = (
    "Sent to the gateway as `Authorization: Bearer sk-...`, the key acts as you with the role "
    "`enduser`, whatever your own role: a key is for inference and never carries supervisor "
    "or admin powers. Usage is charged to your own credits. Disabling you or changing your "
    "role refuses its tokens as it does your sessions'."
)

_manager = require_scope(API_KEYS_MANAGE)
# The calling service, for its keys (per caller): the router's own check, run once.
Manager = Annotated[ServicePrincipal, Depends(_manager)]

internal = APIRouter(
    prefix="/internal/api-keys",
    tags=["api keys (internal)"],
    dependencies=[Depends(_manager)],
    responses=error_responses(401, 403, 422),
)
exchanges = APIRouter(
    prefix="/internal/api-keys",
    tags=["api keys (internal)"],
    dependencies=[Depends(require_scope(API_KEYS_EXCHANGE))],
    responses=error_responses(401, 403, 422),
)


@internal.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Mint a team API key",
    description=REPLAY_DESCRIPTION,
    response_model=MintedKey,
    responses=idempotent_responses(201, {}),
)
async def mint(
    body: MintKeyRequest,
    caller: Manager,
    keys: Keys,
    replays: ReplayKeeper,
    idempotent: IdempotencyKey,
) -> MintedKey | Response:
    once = replays.once(caller.service, idempotent, status.HTTP_201_CREATED)
    return answer(await keys.mint(body, once), once)


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
    description=REPLAY_DESCRIPTION,
    response_model=MintedKey,
    responses=idempotent_responses(201, error_responses(404)),
)
async def rotate(
    key_id: UUID,
    body: RotateRequest,
    caller: Manager,
    keys: Keys,
    replays: ReplayKeeper,
    idempotent: IdempotencyKey,
) -> MintedKey | Response:
    once = replays.once(caller.service, idempotent, status.HTTP_201_CREATED)
    return answer(await keys.rotate(key_id, body, once), once)


@exchanges.post(
    "/exchange",
    summary="Trade an API key for a short-lived access token acting as its team or its owner",
    description="A team key's token acts as the team (`sub` the key id, `teamId`, `accountId`, "
    "`models`, `organizationId`). A personal key's token acts as its owner: `sub` the owner's "
    "id, the owner's username and email, role `enduser` even for an admin's or a "
    "supervisor's key (a key never carries supervisor or admin powers), the owner's token "
    "version `tv`, `keyId`, and `models`, `requestsPerMinute`, `tokensPerMinute` and "
    "`keyBudgetMicro` (its budget in micro-credits, for accounting) when the key sets them. "
    "Both have role `enduser` and live `API_KEY_TOKEN_TTL_SECONDS`, never past the key's own "
    "expiry. A revoked or expired key, or one whose owner is disabled, is 401 "
    "`invalid_api_key`.",
    responses=error_responses(401, 422),
)
async def exchange(body: ExchangeRequest, keys: Keys) -> ExchangeResponse:
    return await keys.exchange(body.api_key)


@personal.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal API key (the `sk-` key is in this response only)",
    description=f"{_ACTS_AS_OWNER} Only the key's SHA-256 is stored. `models` limits the key "
    "to those model ids (within what `enduser` may use); `requestsPerMinute` is the gateway's "
    "limit for this key; `tokensPerMinute` is chat's (input + output tokens as charged, per "
    "minute: checked before an answer starts, so one answer may pass it, and the next is 429 "
    "until the minute turns). `maxBudgetCredits` is accounting's: the most the key's answers "
    "may spend in all (an answer whose hold would pass it is 402 `key_budget_exceeded`, under "
    "concurrent calls too); the key's spend shows in `GET /api/usage/stats` by `keyId`. At "
    "most `MAX_PERSONAL_KEYS` "
    "(default 20) live keys per user: one more is 409 `key_limit_reached`. "
    f"{REPLAY_DESCRIPTION} A replay answers the same key again, secret included.",
    response_model=MintedPersonalKey,
    responses=idempotent_responses(201, error_responses(409)),
)
async def create_personal_key(
    body: PersonalKeyRequest,
    owner: KeyOwner,
    keys: PersonalKeys,
    replays: ReplayKeeper,
    idempotent: IdempotencyKey,
) -> MintedPersonalKey | Response:
    once = replays.once(owner.user_id, idempotent, status.HTTP_201_CREATED)
    return answer(await keys.create(owner, body, once), once)


@personal.get(
    "",
    summary="Your live personal API keys (neither revoked nor expired), newest first, "
    "without secrets",
    description="Only your own keys; team keys are listed by provisioning.",
)
async def list_personal_keys(owner: KeyOwner, keys: PersonalKeys) -> PersonalKeyList:
    return await keys.list_own(owner)


@personal.delete(
    "/{key_id}",
    summary="Revoke one of your personal API keys",
    description="Its tokens already issued are refused everywhere within a second "
    "(`api_key.revoked` on the bus). A key that is not yours, a team key and a missing one "
    "are all 404. Revoking a revoked key again answers it as it is.",
    responses=error_responses(404, 422),
)
async def revoke_personal_key(key_id: UUID, owner: KeyOwner, keys: PersonalKeys) -> PersonalKeyOut:
    return await keys.revoke(owner, key_id)
