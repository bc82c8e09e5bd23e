"""Which account a request or an event acts on, created on first sight."""

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ValidationError

from accounting.accounts import repository
from accounting.accounts.repository import Account, OwnerType
from accounting.config import AccountingSettings
from accounting.credits.amounts import to_micro
from accounting.database import Connection
from accounting.ledger import repository as ledger
from jwt_contract import Principal
from service_client import ServiceClient
from service_kit import ApiError

log = logging.getLogger(__name__)


# Spending accounts remembered per process: an owner's account never changes or goes away.
SPENDER_CACHE_SIZE = 50_000


def unknown_user(target: str) -> ApiError:
    return ApiError(404, "not_found", f"Unknown user: {target}")


class AuthUser(BaseModel):
    """What this service needs of auth's ``GET /internal/users/{id}`` reply."""

    id: str
    username: str


@dataclass(frozen=True)
class Spender:
    """Who pays for a request: the account's id and its owner (a user id or a team id)."""

    id: UUID
    owner_id: str


@dataclass
class AccountsService:
    pool: asyncpg.Pool
    settings: AccountingSettings
    auth: ServiceClient | None
    _spenders: OrderedDict[tuple[str, str], Spender] = field(default_factory=OrderedDict)

    async def ensure_user_account(
        self, conn: Connection, user_id: str, username: str | None
    ) -> Account:
        """The user's account, created (with the starting grant) the first time it is seen."""
        account, created = await repository.get_or_create(
            conn, owner_type="user", owner_id=user_id, username=username
        )
        if created:
            grant = to_micro(self.settings.starting_grant_credits)
            if grant > 0:
                await ledger.allocate(
                    conn,
                    allocation_id=uuid.uuid4(),
                    account_id=account.id,
                    amount_micro=grant,
                    expires_at=None,
                    notes="starting grant",
                    created_by="system",
                )
            log.info("account created", extra={"userId": user_id, "grantMicro": grant})
        return account

    async def ensure_account(
        self, conn: Connection, owner_type: OwnerType, owner_id: str, username: str | None
    ) -> Account:
        if owner_type == "user":
            return await self.ensure_user_account(conn, owner_id, username)
        account, created = await repository.get_or_create(
            conn, owner_type=owner_type, owner_id=owner_id, username=None
        )
        if created:
            log.info("account created", extra={"ownerType": owner_type, "ownerId": owner_id})
        return account

    async def by_id(self, account_id: UUID) -> Account:
        async with self.pool.acquire() as conn:
            account = await repository.by_id(conn, account_id)
        if account is None:
            raise ApiError(404, "not_found", "Unknown account")
        return account

    async def account_for(self, principal: Principal) -> Account:
        """The account a principal spends from: a team's when its token names one, else its own."""
        team_account = _team_account(principal)
        async with self.pool.acquire() as conn:
            if team_account is not None:
                account = await repository.by_id(conn, _uuid_or_404(team_account))
                if account is None:
                    raise ApiError(404, "not_found", "Unknown account")
                return account
            # Almost always there already (user.registered made it) and named: one read, no
            # transaction. Missing, or with a name to fill in: made (or named) as before.
            account = await repository.by_owner(conn, "user", principal.user_id)
            if account is not None and (account.username is not None or not principal.username):
                return account
            async with conn.transaction():
                return await self.ensure_user_account(conn, principal.user_id, principal.username)

    def remember_user_account(self, account: Account) -> None:
        """A user's account this process has just made or read (user.registered): its first
        reservation here then needs no look-up. Only a named one, as ``spender`` would."""
        if account.owner_type == "user" and account.username is not None:
            self._remember(("user", account.owner_id), Spender(account.id, account.owner_id))

    def _remember(self, key: tuple[str, str], spender: Spender) -> None:
        self._spenders[key] = spender
        self._spenders.move_to_end(key)
        if len(self._spenders) > SPENDER_CACHE_SIZE:
            self._spenders.popitem(last=False)

    async def spender(self, principal: Principal) -> Spender:
        """``account_for``'s id and owner, without a database round trip after the first time:
        it is on every reservation. An account still waiting for its username is not
        remembered, so a later request can fill the name in."""
        team_account = _team_account(principal)
        key = ("team", team_account) if team_account is not None else ("user", principal.user_id)
        known = self._spenders.get(key)
        if known is not None:
            self._spenders.move_to_end(key)
            return known
        account = await self.account_for(principal)
        spender = Spender(account.id, account.owner_id)
        if team_account is not None or account.username is not None or not principal.username:
            self._remember(key, spender)
        return spender

    async def user_account(self, target: str) -> Account:
        """The account of the user named by id or username (for admins and supervisors).

        A user who registered before this service was listening on the bus may have no
        account yet: then the auth service is asked, as this service (``users:read``).
        """
        target = target.strip()
        if not target or len(target) > 254:
            raise unknown_user(target)
        async with self.pool.acquire() as conn:
            account = await repository.user_by_id_or_username(conn, target)
            if account is not None:
                return account
            found = await self._ask_auth(target)
            if found is None:
                raise unknown_user(target)
            async with conn.transaction():
                return await self.ensure_user_account(conn, found.id, found.username)

    async def _ask_auth(self, target: str) -> AuthUser | None:
        if self.auth is None:
            return None
        try:
            reply = await self.auth.request("GET", "/internal/users/{}", target)
        except ApiError as exc:
            log.warning("auth service unavailable for a user look-up", extra={"error": exc.code})
            return None
        if reply.status != 200:
            if reply.status != 404:
                log.warning("auth refused a user look-up", extra={"status": reply.status})
            return None
        try:
            found = AuthUser.model_validate(reply.json())
        except ValidationError:
            return None
        return found if target in (found.id, found.username) else None


def _team_account(principal: Principal) -> str | None:
    """The team account id a token names (a team key's), else None."""
    team_account = principal.claims.get("accountId")
    return team_account if isinstance(team_account, str) else None


def _uuid_or_404(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", "Unknown account") from None
