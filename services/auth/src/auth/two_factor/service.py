"""Two-factor authentication: setting TOTP up, turning it on and off, the second step of a
login, an admin's reset, and ``REQUIRE_2FA_ROLES``.

Every code is accepted once: a TOTP code only for a time step later than the last one accepted
for the user (``last_used_step``), a backup code only while unused, each spent by a conditional
update in the transaction that acts on it, so two requests with one code cannot both pass.
Wrong codes are throttled like wrong passwords (``CodeThrottle``).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from auth.config import AuthSettings
from auth.database import Connection
from auth.idempotent import Once
from auth.sessions.schemas import LoginResponse
from auth.sessions.tokens import issue_pair
from auth.throttling.code_throttle import CodeThrottle
from auth.two_factor import backup_codes, repository, totp
from auth.two_factor.challenges import token_hash
from auth.two_factor.repository import Factor
from auth.two_factor.schemas import SetupResponse, VerifyResponse
from auth.two_factor.secret_box import SecretBox
from auth.users import repository as users
from auth.users.passwords import PasswordHasher
from auth.users.service import user_out
from bus_events import AuditRecorded, event_of
from event_bus import OutboxRelay, enqueue
from idempotency import StoredResponse
from jwt_contract import Principal, TokenSigner
from jwt_contract.dependencies import invalid_token
from service_kit import ApiError, request_id_var

log = logging.getLogger(__name__)


class WrongCode(ApiError):
    """A code that is not the user's, or already used: a failure the throttle counts."""

    def __init__(self, status: int) -> None:
        super().__init__(status, "invalid_mfa_code", "Invalid or already used 2FA code")


@dataclass(frozen=True, slots=True)
class TotpStep:
    step: int


@dataclass(frozen=True, slots=True)
class UnusedBackupCode:
    code_id: UUID


CodeMatch = TotpStep | UnusedBackupCode


def invalid_mfa_token() -> ApiError:
    return ApiError(
        401,
        "invalid_mfa_token",
        "This sign-in has expired or is already used; log in with your password again",
    )


def _already_enabled() -> ApiError:
    return ApiError(409, "mfa_already_enabled", "Two-factor authentication is already on")


def _not_enabled() -> ApiError:
    return ApiError(409, "mfa_not_enabled", "Two-factor authentication is not on")


def _user_id(principal: Principal) -> UUID:
    try:
        return UUID(principal.user_id)
    except ValueError:
        raise invalid_token() from None


@dataclass
class TwoFactorService:
    pool: asyncpg.Pool
    box: SecretBox
    hasher: PasswordHasher
    signer: TokenSigner
    throttle: CodeThrottle
    relay: OutboxRelay
    settings: AuthSettings

    async def set_up(
        self, principal: Principal, once: Once | None = None
    ) -> SetupResponse | StoredResponse:
        """A new pending secret, or the response a key already used got (the secret then is
        not replaced again)."""
        user_id = _user_id(principal)
        secret = totp.new_secret()
        sealed = self.box.seal(secret.encode(), context=user_id.bytes)
        async with self.pool.acquire() as conn, conn.transaction():
            user = await users.by_id(conn, user_id)
            if user is None or user.disabled:
                raise invalid_token()
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            if not await repository.save_pending(conn, user_id, sealed):
                raise _already_enabled()
            uri = totp.provisioning_uri(
                secret, account=user.username, issuer=self.settings.mfa_issuer
            )
            qr_svg = await asyncio.to_thread(totp.qr_svg, uri)  # ~10 ms of CPU: off the loop
            set_up = SetupResponse(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)
            if once is not None:
                await once.record(conn, set_up)
        log.info("2fa set up", extra={"userId": principal.user_id})
        return set_up

    async def verify(
        self, principal: Principal, code: str, client_ip: str, once: Once | None = None
    ) -> VerifyResponse | StoredResponse:
        """Turn 2FA on; with a key already used, the response it got (the backup codes it
        showed), before any check: 2FA is on by then."""
        user_id = _user_id(principal)
        if once is not None and (kept := await self._kept(once)) is not None:
            return kept
        async with self._judged(user_id, client_ip):
            async with self.pool.acquire() as conn:
                factor = await repository.factor(conn, user_id)
            if factor is None:
                raise ApiError(409, "mfa_not_set_up", "Set 2FA up first (POST /api/auth/2fa/setup)")
            if factor.enabled:
                # A concurrent request with this key may have turned it on since the look above.
                if once is not None and (kept := await self._kept(once)) is not None:
                    return kept
                raise _already_enabled()
            first = self._totp_match(factor, _compact(code))
            if first is None:
                raise WrongCode(400)
            codes = backup_codes.new_codes()
            hashes = await self.hasher.hash_each([backup_codes.normalized(c) for c in codes])
            async with self.pool.acquire() as conn, conn.transaction():
                # Claimed again here, with the work: a concurrent request with this key that
                # got here first has turned 2FA on, and this one answers what it got.
                if once is not None and (kept := await once.claim(conn)) is not None:
                    return kept
                if not await repository.enable(conn, user_id, factor.sealed, first.step):
                    raise ApiError(409, "conflict", "2FA was set up again meanwhile; verify anew")
                await repository.replace_backup_codes(conn, user_id, hashes)
                verified = VerifyResponse(enabled=True, backup_codes=codes)
                if once is not None:
                    await once.record(conn, verified)
        log.info("2fa enabled", extra={"userId": principal.user_id})
        return verified

    async def _kept(self, once: Once) -> StoredResponse | None:
        """The response this key got before, if any, without keeping the claim: the work and
        its key are claimed together later, in one transaction."""
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                return await once.claim(conn)
            finally:
                await transaction.rollback()

    async def disable(self, principal: Principal, code: str, client_ip: str) -> None:
        user_id = _user_id(principal)
        async with self._judged(user_id, client_ip):
            async with self.pool.acquire() as conn:
                factor = await repository.factor(conn, user_id)
            if factor is None or not factor.enabled:
                raise _not_enabled()
            match = await self._match(factor, code)
            if match is None:
                raise WrongCode(400)
            async with self.pool.acquire() as conn, conn.transaction():
                if not await _spend(conn, user_id, match):
                    raise WrongCode(400)
                await repository.remove(conn, user_id)
        log.info("2fa disabled", extra={"userId": principal.user_id})

    async def complete_login(self, mfa_token: str, code: str, client_ip: str) -> LoginResponse:
        challenge_hash = token_hash(mfa_token)
        attempts = self.settings.mfa_max_attempts_per_token
        async with self.pool.acquire() as conn:
            challenge = await repository.live_challenge(conn, challenge_hash, attempts)
        if challenge is None:
            raise invalid_mfa_token()
        user_id = challenge.user_id
        async with self._judged(user_id, client_ip):
            async with self.pool.acquire() as conn:
                factor = await repository.factor(conn, user_id)
            if factor is None or not factor.enabled:  # reset since the password was checked
                raise invalid_mfa_token()
            match = await self._match(factor, code)
            try:
                if match is None:
                    raise WrongCode(401)
                return await self._finish_login(challenge_hash, user_id, match)
            except WrongCode:
                async with self.pool.acquire() as conn:
                    await repository.count_failed_attempt(conn, challenge_hash)
                raise

    async def _finish_login(
        self, challenge_hash: bytes, user_id: UUID, match: CodeMatch
    ) -> LoginResponse:
        async with self.pool.acquire() as conn, conn.transaction():
            spent = await repository.spend_challenge(
                conn, challenge_hash, self.settings.mfa_max_attempts_per_token
            )
            if not spent:
                raise invalid_mfa_token()
            if not await _spend(conn, user_id, match):
                raise WrongCode(401)
            user = await users.by_id(conn, user_id)
            if user is None or user.disabled:
                raise invalid_mfa_token()
            tokens = await issue_pair(conn, self.signer, self.settings, user)
        log.info("login", extra={"userId": str(user_id), "secondFactor": type(match).__name__})
        return LoginResponse(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            user=user_out(user),
        )

    async def reset(self, admin: Principal, user_id: UUID) -> None:
        """Turn the user's 2FA off (their device is lost), recorded in the audit trail."""
        async with self.pool.acquire() as conn, conn.transaction():
            if await users.lock(conn, user_id) is None:
                raise ApiError(404, "not_found", "User not found")
            removed = await repository.remove(conn, user_id)
            before = "off" if removed is None else "enabled" if removed.enabled else "set_up"
            audit = AuditRecorded(
                actor_id=admin.user_id,
                action="user.2fa_reset",
                target_type="user",
                target_id=str(user_id),
                before={"twoFactor": before},
                after={"twoFactor": "off"},
                request_id=request_id_var.get() or "-",
            )
            await enqueue(conn, event_of(audit))
        self.relay.wake()
        log.info("2fa reset", extra={"userId": str(user_id), "by": admin.user_id})

    async def require_set_up(self, principal: Principal) -> None:
        """403 ``mfa_setup_required`` for a user whose role is in ``REQUIRE_2FA_ROLES`` and
        who has not turned 2FA on."""
        roles = self.settings.roles_requiring_2fa
        if not roles:
            return
        async with self.pool.acquire() as conn:
            found = await repository.role_and_enabled(conn, _user_id(principal))
        if found is not None and found[0] in roles and not found[1]:
            raise ApiError(
                403,
                "mfa_setup_required",
                f"Users with the {found[0]} role must turn on two-factor authentication "
                "first: POST /api/auth/2fa/setup, then /api/auth/2fa/verify",
            )

    @asynccontextmanager
    async def _judged(self, user_id: UUID, client_ip: str) -> AsyncIterator[None]:
        """A code attempt's slot in the throttle: kept for a wrong code, given back when the
        attempt ends otherwise, the pair's count cleared by a right code."""
        attempt = await self.throttle.reserve(user_id, client_ip)
        if attempt.retry_after is not None:
            raise ApiError(
                429,
                "rate_limited",
                "Too many wrong 2FA codes; try again later",
                headers={"Retry-After": str(attempt.retry_after)},
            )
        try:
            yield
        except WrongCode:
            raise
        except BaseException:
            await self.throttle.abandoned(attempt)
            raise
        await self.throttle.succeeded(attempt)

    async def _match(self, factor: Factor, code: str) -> CodeMatch | None:
        """What ``code`` is for ``factor``'s user: a TOTP code of a step not used yet, an
        unused backup code, or nothing."""
        code = _compact(code)
        if totp.looks_like_totp(code):
            return self._totp_match(factor, code)
        code = backup_codes.normalized(code)
        if not backup_codes.looks_like_backup_code(code):
            return None
        async with self.pool.acquire() as conn:
            unused = await repository.unused_backup_codes(conn, factor.user_id)
        index = await self.hasher.first_match([c.code_hash for c in unused], code)
        return None if index is None else UnusedBackupCode(unused[index].id)

    def _totp_match(self, factor: Factor, code: str) -> TotpStep | None:
        """A six-digit code of a step later than the last one accepted, or None."""
        if not totp.looks_like_totp(code):
            return None
        secret = self.box.open(factor.sealed, context=factor.user_id.bytes).decode()
        step = totp.matching_step(secret, code, after_step=factor.last_used_step)
        return None if step is None else TotpStep(step)


def _compact(code: str) -> str:
    """A code as typed, without spaces ("123 456" is 123456)."""
    return "".join(code.split())


async def _spend(conn: Connection, user_id: UUID, match: CodeMatch) -> bool:
    """Spend the code; False when a concurrent request spent it first."""
    if isinstance(match, TotpStep):
        return await repository.use_step(conn, user_id, match.step)
    return await repository.use_backup_code(conn, match.code_id)
