"""The mfaToken of a password login waiting for its second factor: 256 random bits, not a JWT,
so no verifier anywhere takes it for an access token; only its SHA-256 is stored."""

import hashlib
import secrets
from uuid import UUID

from auth.database import Connection
from auth.two_factor import repository
from auth.two_factor.schemas import MfaRequired

MFA_TOKEN_PREFIX = "mfa_"


def token_hash(mfa_token: str) -> bytes:
    return hashlib.sha256(mfa_token.encode("utf-8", "replace")).digest()


async def open_challenge(conn: Connection, user_id: UUID, ttl_seconds: int) -> MfaRequired:
    mfa_token = MFA_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await repository.insert_challenge(conn, token_hash(mfa_token), user_id, ttl_seconds)
    return MfaRequired(mfa_required=True, mfa_token=mfa_token)
