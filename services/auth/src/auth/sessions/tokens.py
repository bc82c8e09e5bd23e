"""Issuing access and refresh tokens for a user."""

import uuid
from datetime import UTC, datetime
from uuid import UUID

from auth.config import AuthSettings
from auth.database import Connection
from auth.sessions import repository
from auth.sessions.schemas import TokenPair
from auth.two_factor import repository as two_factor
from auth.users.repository import User
from jwt_contract import TokenSigner
from jwt_contract.claims import TWO_FACTOR_CLAIM


async def issue_pair(
    conn: Connection,
    signer: TokenSigner,
    settings: AuthSettings,
    user: User,
    family_id: UUID | None = None,
) -> TokenPair:
    """A new access token and a new refresh token (recorded, in ``family_id`` or a new family)."""
    access, _ = signer.issue(
        user_id=str(user.id),
        username=user.username,
        email=user.email,
        role=user.role,
        token_type="access",
        ttl_seconds=settings.access_token_ttl_seconds,
        extra={
            # Refused everywhere once the user's version goes up (role change, disable).
            "tv": user.token_version,
            # What every other service's REQUIRE_2FA_ROLES checks offline: a user who turns 2FA
            # on gets it in their next token (a refresh is enough), one who turns it off loses
            # it there.
            TWO_FACTOR_CLAIM: await two_factor.is_enabled(conn, user.id),
        },
    )
    refresh_id = uuid.uuid4()
    refresh, claims = signer.issue(
        user_id=str(user.id),
        username=user.username,
        email=user.email,
        role=user.role,
        token_type="refresh",
        ttl_seconds=settings.refresh_token_ttl_seconds,
        token_id=str(refresh_id),
    )
    await repository.insert(
        conn,
        token_id=refresh_id,
        family_id=family_id or uuid.uuid4(),
        user_id=user.id,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
    return TokenPair(access_token=access, refresh_token=refresh)
