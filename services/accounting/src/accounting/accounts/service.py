"""Which account a request or an event acts on, created on first sight."""

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from accounting.accounts import repository
from accounting.config import AccountingSettings
from accounting.credits.amounts import to_micro
from accounting.ledger import repository as ledger
from jwt_contract import Principal
from service_client import ServiceClient
from service_kit import ApiError

log = logging.getLogger(__name__)


# Spending accounts remembered per process: an owner's account never changes or goes away.
SPENDER_CACHE_SIZE = 50_000


def unknown_user(target: str) -> ApiError:
    return ApiError(404, "not_found", f"Unknown user: {target}")


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
        self, conn: asyncpg.Connection, user_id: str, username: str | None
    ) -> asyncpg.Record:
        """The user's account, created (with the starting grant) the first time it is seen."""
        row, created = await repository.get_or_create(
            conn, owner_type="user", owner_id=user_id, username=username
        )
        if created:
            grant = to_micro(self.settings.starting_grant_credits)
            if grant > 0:
                await ledger.allocate(
                    conn,
                    allocation_id=uuid.uuid4(),
                    account_id=row["id"],
                    amount_micro=grant,
                    expires_at=None,
                    notes="starting grant",
                    created_by="system",
                )
            log.info("account created", extra={"userId": user_id, "grantMicro": grant})
        return row

    async def ensure_account(
        self, conn: asyncpg.Connection, owner_type: str, owner_id: str, username: str | None
    ) -> asyncpg.Record:
        if owner_type == "user":
            return await self.ensure_user_account(conn, owner_id, username)
        row, created = await repository.get_or_create(
            conn, owner_type=owner_type, owner_id=owner_id, username=None
        )
        if created:
            log.info("account created", extra={"ownerType": owner_type, "ownerId": owner_id})
        return row

    async def by_id(self, account_id: UUID) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await repository.by_id(conn, account_id)
        if row is None:
            raise ApiError(404, "not_found", "Unknown account")
        return row

    async def account_for(self, principal: Principal) -> asyncpg.Record:
        """The account a principal spends from: a team's when its token names one, else its own."""
        team_account = principal.claims.get("accountId")
        async with self.pool.acquire() as conn:
            if isinstance(team_account, str):
                row = await repository.by_id(conn, _uuid_or_404(team_account))
                if row is None:
                    raise ApiError(404, "not_found", "Unknown account")
                return row
            async with conn.transaction():
                return await self.ensure_user_account(conn, principal.user_id, principal.username)

    async def spender(self, principal: Principal) -> Spender:
        """``account_for``'s id and owner, without a database round trip after the first time:
        it is on every reservation. An account still waiting for its username is not
        remembered, so a later request can fill the name in."""
        team_account = principal.claims.get("accountId")
        is_team = isinstance(team_account, str)
        key = ("team", team_account) if is_team else ("user", principal.user_id)
        known = self._spenders.get(key)
        if known is not None:
            self._spenders.move_to_end(key)
            return known
        row = await self.account_for(principal)
        spender = Spender(row["id"], row["owner_id"])
        if is_team or row["username"] is not None or not principal.username:
            self._spenders[key] = spender
            if len(self._spenders) > SPENDER_CACHE_SIZE:
                self._spenders.popitem(last=False)
        return spender

    async def user_account(self, target: str) -> asyncpg.Record:
        """The account of the user named by id or username (for admins and supervisors).

        A user who registered before this service was listening on the bus may have no
        account yet: then the auth service is asked, as this service (``users:read``).
        """
        target = target.strip()
        if not target or len(target) > 254:
            raise unknown_user(target)
        async with self.pool.acquire() as conn:
            row = await repository.user_by_id_or_username(conn, target)
            if row is not None:
                return row
            found = await self._ask_auth(target)
            if found is None:
                raise unknown_user(target)
            async with conn.transaction():
                return await self.ensure_user_account(conn, found["id"], found["username"])

    async def _ask_auth(self, target: str) -> dict | None:
        if self.auth is None:
            return None
        try:
            reply = await self.auth.request("GET", "/internal/users/{}", target)
        except ApiError as exc:
            log.warning("auth service unavailable for a user look-up", extra={"error": exc.code})
            return None
        found = reply.json() if reply.status == 200 else None
        if reply.status not in (200, 404):
            log.warning("auth refused a user look-up", extra={"status": reply.status})
        if isinstance(found, dict) and target in (found.get("id"), found.get("username")):
            return found
        return None


def _uuid_or_404(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", "Unknown account") from None
