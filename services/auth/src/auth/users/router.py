from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from auth.dependencies import Users
from auth.idempotent import ReplayKeeper, answer, idempotent_responses
from auth.two_factor.dependencies import MfaReadyAdmin
from auth.users.schemas import (
    RegisterRequest,
    RegisterResponse,
    Text,
    UserAdminView,
    UserOut,
    UserPage,
    UserUpdate,
)
from auth.users.service import user_out
from idempotency import IdempotencyKey
from jwt_contract import Role
from jwt_contract.dependencies import CurrentPrincipal, require_scope
from jwt_contract.scopes import USERS_READ
from service_kit import error_responses

# An admin route's 403: not an admin, or an admin who must set up 2FA first.
_NOT_AN_ADMIN: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "Not an admin (`forbidden`), or an admin whose role is in "
        "REQUIRE_2FA_ROLES without 2FA on (`mfa_setup_required`)",
        "model": error_responses(403)[403]["model"],
    }
}

router = APIRouter(prefix="/api/auth", tags=["users"])
internal = APIRouter(
    prefix="/internal/users",
    tags=["users (internal)"],
    dependencies=[Depends(require_scope(USERS_READ))],
    responses=error_responses(401, 403),
)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model_by_alias=True,
    summary="Create an enduser account and log it in",
    description="With an `Idempotency-Key`, a retry with the same key and the very same body "
    "within 24 h answers the first response again (`Idempotent-Replayed: true`, its tokens "
    "included) and registers no one. The caller is anonymous, so a key is the account's: it is "
    "scoped to the username asked for, and the body compared includes the password, so only "
    "someone who sent that password gets the tokens again; the same key and username with "
    "another body → 422 `idempotency_key_reused`. The kept response is stored encrypted, and "
    "the body only as a keyed digest.",
    response_model=RegisterResponse,
    responses=idempotent_responses(201, error_responses(400, 409)),
)
async def register(
    body: RegisterRequest,
    request: Request,
    users: Users,
    replays: ReplayKeeper,
    idempotent: IdempotencyKey,
) -> RegisterResponse | Response:
    once = replays.registration(idempotent, body.username, await request.body(), 201)
    return answer(await users.register(body, once), once)


@router.get(
    "/me",
    summary="The authenticated user",
    description="With a personal API key's token, `role` is the token's (`enduser`), not the "
    "owner's: what the key may do.",
    responses=error_responses(401),
)
async def me(principal: CurrentPrincipal, users: Users) -> UserOut:
    user = user_out(await users.active_user(principal.user_id))
    # A personal key's token acts as its owner with the role enduser: say what it may do.
    return user.model_copy(update={"role": principal.role}) if "keyId" in principal.claims else user


@router.get(
    "/users",
    summary="All users, oldest first (admin)",
    responses={**error_responses(401, 422), **_NOT_AN_ADMIN},
)
async def list_users(
    _: MfaReadyAdmin,
    users: Users,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    role: Role | None = None,
    q: Annotated[Text | None, Query(max_length=100, description="Part of a name or email")] = None,
) -> UserPage:
    return await users.list_users(page=page, limit=limit, role=role, search=q)


@router.patch(
    "/users/{user_id}",
    summary="Change a user's role or disable them (admin); disabling revokes their sessions",
    description="A change of role or of `disabled` is announced on the bus as `user.updated` "
    "`{userId, role, disabled}`, in the same transaction as the change.",
    responses={**error_responses(401, 404, 409, 422), **_NOT_AN_ADMIN},
)
async def update_user(
    user_id: UUID, body: UserUpdate, admin: MfaReadyAdmin, users: Users
) -> UserAdminView:
    return await users.update_user(admin, user_id, body)


@internal.get(
    "/{login}",
    summary="One active user by username, email or id (for the platform's services)",
    responses=error_responses(404, 422),
)
async def find_user(
    login: Annotated[Text, Path(min_length=1, max_length=254)], users: Users
) -> UserOut:
    return user_out(await users.find_active(login))
