"""Login, refresh with rotation and reuse detection, logout."""

import logging
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from auth.config import AuthSettings
from auth.sessions import repository
from auth.sessions.schemas import LoginResponse, TokenPair
from auth.sessions.tokens import issue_pair
from auth.throttling.login_throttle import LoginThrottle
from auth.two_factor import repository as two_factor
from auth.two_factor.challenges import open_challenge
from auth.two_factor.schemas import MfaRequired
from auth.users import repository as users
from auth.users.passwords import PasswordHasher
from auth.users.repository import User
from auth.users.schemas import text_problem
from auth.users.service import user_out
from jwt_contract import InvalidToken, Principal, TokenSigner, TokenVerifier
from service_kit import ApiError

log = logging.getLogger(__name__)


def wrong_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "Invalid username or password")


def invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "Invalid authentication token")


@dataclass
class SessionsService:
    pool: asyncpg.Pool
    hasher: PasswordHasher
    signer: TokenSigner
    verifier: TokenVerifier
    throttle: LoginThrottle
    settings: AuthSettings

    async def login(self, login: str, password: str, client_ip: str) -> LoginResponse | MfaRequired:
        """Tokens for a right password; for a user with 2FA on, the mfaToken that
        ``/login/2fa`` takes with a code instead."""
        # The attempt takes its slot first, so parallel guesses cannot all pass the check.
        attempt = await self.throttle.reserve(login, client_ip)
        if attempt.retry_after is not None:
            raise ApiError(
                429,
                "rate_limited",
                "Too many failed logins; try again later",
                headers={"Retry-After": str(attempt.retry_after)},
            )
        try:
            user, password_ok = await self._check(login, password)
        except BaseException:
            await self.throttle.abandoned(attempt)
            raise
        if user is None or not password_ok or user.disabled:
            # The slot stays taken: this attempt is one of the failures the throttle counts.
            log.info("login refused", extra={"clientIp": client_ip})
            raise wrong_credentials()
        await self.throttle.succeeded(attempt)
        async with self.pool.acquire() as conn, conn.transaction():
            if await two_factor.is_enabled(conn, user.id):
                ttl = self.settings.mfa_token_ttl_seconds
                challenge = await open_challenge(conn, user.id, ttl)
                log.info("login waits for a second factor", extra={"userId": str(user.id)})
                return challenge
            tokens = await issue_pair(conn, self.signer, self.settings, user)
        log.info("login", extra={"userId": str(user.id)})
        return LoginResponse(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            user=user_out(user),
        )

    async def _check(self, login: str, password: str) -> tuple[User | None, bool]:
        """The user ``login`` names and whether ``password`` is theirs."""
        login = login.strip()
        if text_problem(login):
            # No user has a NUL in their name, and PostgreSQL cannot even be asked for one:
            # the same wrong-credentials answer as any other (the hash below still runs).
            user = None
        else:
            async with self.pool.acquire() as conn:
                user = await users.by_login(conn, login)
        # The hash is checked even for unknown users, so timing does not reveal who exists.
        password_ok = await self.hasher.verify(user.password_hash if user else None, password)
        return user, password_ok

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_id = self._refresh_token_id(refresh_token)
        async with self.pool.acquire() as conn, conn.transaction():
            session = await repository.lock(conn, token_id)
            if session is None or session.revoked_at is not None:
                raise invalid_token()
            if session.used_at is not None:
                revoked = await repository.revoke_family(conn, session.family_id)
                log.warning(
                    "refresh token reused: family revoked",
                    extra={"userId": str(session.user_id), "revokedTokens": revoked},
                )
                # Commit the revocation before answering: raising would roll it back.
                reused = True
            else:
                reused = False
                user = await users.by_id(conn, session.user_id)
                if user is None or user.disabled:
                    raise invalid_token()
                await repository.mark_used(conn, token_id)
                tokens = await issue_pair(conn, self.signer, self.settings, user, session.family_id)
        if reused:
            raise invalid_token()
        return tokens

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        token_id = self._refresh_token_id(refresh_token)
        async with self.pool.acquire() as conn, conn.transaction():
            session = await repository.lock(conn, token_id)
            if session is None or str(session.user_id) != principal.user_id:
                raise invalid_token()
            await repository.revoke_family(conn, session.family_id)
        log.info("logout", extra={"userId": principal.user_id})

    def _refresh_token_id(self, refresh_token: str) -> UUID:
        try:
            claims = self.verifier.verify(refresh_token, expected_type="refresh")
            return UUID(claims.token_id)
        except (InvalidToken, ValueError):
            raise invalid_token() from None
