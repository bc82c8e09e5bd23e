"""Registration and user administration rules."""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from auth import audit
from auth.config import AuthSettings
from auth.database import Connection
from auth.idempotent import Once
from auth.revocations.service import revoke_user_tokens
from auth.sessions import repository as refresh_tokens
from auth.sessions.tokens import issue_pair
from auth.users import repository
from auth.users.passwords import PasswordHasher
from auth.users.policy import password_problem, username_problem
from auth.users.repository import User
from auth.users.schemas import (
    Pagination,
    RegisterRequest,
    RegisterResponse,
    UserAdminView,
    UserOut,
    UserPage,
    UserUpdate,
)
from bus_events import UserRegistered, event_of
from event_bus import OutboxRelay, enqueue
from idempotency import StoredResponse
from jwt_contract import Principal, Role, TokenSigner
from service_kit import ApiError

log = logging.getLogger(__name__)


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, email=user.email, role=user.role)


def user_admin_view(user: User) -> UserAdminView:
    return UserAdminView.model_validate(user, from_attributes=True)


def user_registered(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=str(user.id), username=user.username, email=user.email, role=user.role
    )


# An enabled user read for GET /me is remembered this long: a client polling /me costs a
# look-up, not a PostgreSQL round trip each time. A disable or role change made by this process
# is seen at once (``update_user`` forgets the user); one made by another auth replica is seen
# here within this (CONTRACT.md: revocation within a second), if the revocation feed has not
# already refused the token by then.
ACTIVE_USER_SECONDS = 0.5
MAX_ACTIVE_USERS = 10_000


@dataclass
class UsersService:
    pool: asyncpg.Pool
    hasher: PasswordHasher
    signer: TokenSigner
    relay: OutboxRelay
    settings: AuthSettings
    clock: Callable[[], float] = time.monotonic
    # user id -> (the enabled user, until when to believe it)
    _active: dict[str, tuple[User, float]] = field(default_factory=dict, init=False, repr=False)
    _changes: int = field(default=0, init=False, repr=False)  # users changed by this process

    async def register(
        self, request: RegisterRequest, once: Once | None = None
    ) -> RegisterResponse | StoredResponse:
        """The account made and logged in, or the response a key already used with this
        body got (no one is registered again)."""
        username, email = request.username.strip(), request.email.lower()
        if problem := username_problem(username):
            raise ApiError(400, "invalid_username", problem)
        # zxcvbn takes milliseconds of CPU (tens for a long password): not on the event loop.
        weakness = await asyncio.to_thread(
            password_problem, request.password, username=username, email=email
        )
        if weakness:
            raise ApiError(400, "weak_password", weakness.message, details=weakness.details)
        password_hash = await self.hasher.hash(request.password)
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            user = await self.create_user(conn, username, email, password_hash, "enduser")
            if user is None:
                username_taken, _ = await repository.taken(conn, username, email)
                what = "username" if username_taken else "email"
                raise ApiError(409, f"{what}_taken", f"That {what} is already registered")
            tokens = await issue_pair(conn, self.signer, self.settings, user)
            registered = RegisterResponse(
                user=user_out(user),
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
            )
            if once is not None:
                await once.record(conn, registered)
        self.relay.wake()
        log.info("user registered", extra={"userId": str(user.id)})
        return registered

    @staticmethod
    async def create_user(
        conn: Connection, username: str, email: str, password_hash: str, role: Role
    ) -> User | None:
        """Insert the user and, in the same transaction, the event announcing them; None when
        the username or email is taken."""
        user = await repository.insert(
            conn,
            user_id=uuid.uuid4(),
            username=username,
            email=email,
            password_hash=password_hash,
            role=role,
        )
        if user is not None:
            await enqueue(conn, event_of(user_registered(user)))
        return user

    async def active_user(self, user_id: str) -> User:
        """The enabled user ``user_id`` (401 ``invalid_token`` for a disabled or unknown one),
        as read at most ``ACTIVE_USER_SECONDS`` ago."""
        now = self.clock()
        known = self._active.get(user_id)
        if known is not None and known[1] > now:
            return known[0]
        changes = self._changes
        async with self.pool.acquire() as conn:
            user = await repository.by_id(conn, UUID(user_id))
        if user is None or user.disabled:
            self._active.pop(user_id, None)
            raise ApiError(401, "invalid_token", "Invalid authentication token")
        if changes == self._changes:  # no change since the read began: it is still current
            self._remember(user_id, user, now + ACTIVE_USER_SECONDS)
        return user

    def _remember(self, user_id: str, user: User, until: float) -> None:
        if len(self._active) >= MAX_ACTIVE_USERS and user_id not in self._active:
            now = self.clock()
            self._active = {key: entry for key, entry in self._active.items() if entry[1] > now}
            while len(self._active) >= MAX_ACTIVE_USERS:
                del self._active[next(iter(self._active))]  # the oldest
        self._active[user_id] = (user, until)

    def _forget(self, user_id: str) -> None:
        """``user_id`` changed (or may have): the next /me reads it again."""
        self._changes += 1
        self._active.pop(user_id, None)

    async def find_active(self, login: str) -> User:
        """The enabled user whose id, username or email is ``login``; 404 otherwise."""
        async with self.pool.acquire() as conn:
            user = await repository.by_login(conn, login)
            if user is None:
                user_id = _uuid_or_none(login)
                user = await repository.by_id(conn, user_id) if user_id else None
        if user is None or user.disabled:
            raise ApiError(404, "not_found", f"Unknown user: {login}")
        return user

    async def list_users(
        self, *, page: int, limit: int, role: Role | None, search: str | None
    ) -> UserPage:
        async with self.pool.acquire() as conn:
            users, total = await repository.page(
                conn, offset=(page - 1) * limit, limit=limit, role=role, search=search
            )
        return UserPage(
            users=[user_admin_view(user) for user in users],
            pagination=Pagination(
                page=page, limit=limit, total=total, pages=math.ceil(total / limit)
            ),
        )

    async def update_user(
        self, actor: Principal, user_id: UUID, changes: UserUpdate
    ) -> UserAdminView:
        if str(user_id) == actor.user_id and (
            changes.role not in (None, "admin") or changes.disabled
        ):
            raise ApiError(
                409, "conflict", "Admins cannot demote or disable themselves; ask another admin"
            )
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                before = await repository.lock(conn, user_id)
                if before is None:
                    raise ApiError(404, "not_found", "User not found")
                after = await repository.update(
                    conn, user_id, role=changes.role, disabled=changes.disabled
                )
                if after is None:  # cannot happen: the row is locked
                    raise ApiError(404, "not_found", "User not found")
                changed = (after.role, after.disabled) != (before.role, before.disabled)
                if changed:
                    # How every service learns to refuse this user's tokens (CONTRACT.md).
                    await revoke_user_tokens(conn, after)
                    await _audit_update(conn, actor, before, after)
                if changes.disabled:
                    await refresh_tokens.revoke_all_for_user(conn, user_id)
        finally:
            self._forget(str(user_id))  # committed or not, /me reads the row again
        if changed:
            self.relay.wake()
        log.info(
            "user updated",
            extra={
                "userId": str(user_id),
                "by": actor.user_id,
                **changes.model_dump(exclude_none=True),
            },
        )
        return user_admin_view(after)


async def _audit_update(conn: Connection, actor: Principal, before: User, after: User) -> None:
    """One ``audit.recorded`` per kind of change: a role change, a disable or an enable."""
    target = str(after.id)
    if after.role != before.role:
        await audit.record(
            conn,
            actor.user_id,
            "user.role_changed",
            target_type="user",
            target_id=target,
            before={"role": before.role},
            after={"role": after.role},
        )
    if after.disabled != before.disabled:
        await audit.record(
            conn,
            actor.user_id,
            "user.disabled" if after.disabled else "user.enabled",
            target_type="user",
            target_id=target,
            before={"disabled": before.disabled},
            after={"disabled": after.disabled},
        )


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
