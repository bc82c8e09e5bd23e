"""Token signing: used by the auth service only."""

import time
import uuid
from typing import Any

import jwt

from jwt_contract.claims import SERVICE_TOKEN_TYPE, Role, TokenType
from jwt_contract.keys import SigningKey


class TokenSigner:
    def __init__(self, key: SigningKey, *, issuer: str, audience: str) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience

    def issue(
        self,
        *,
        user_id: str,
        username: str,
        email: str,
        role: Role,
        token_type: TokenType,
        ttl_seconds: int,
        token_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Sign a token; returns it with its claims (the caller may need ``jti``/``exp``)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            **(extra or {}),
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "username": username,
            "email": email,
            "role": role,
            "type": token_type,
            "jti": token_id or str(uuid.uuid4()),
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return self._sign(claims), claims

    def issue_service(
        self, *, service: str, scopes: list[str], ttl_seconds: int
    ) -> tuple[str, dict[str, Any]]:
        """Sign a service's own token: ``sub`` is the service, ``scope`` what it may do."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": service,
            "type": SERVICE_TOKEN_TYPE,
            "scope": " ".join(sorted(scopes)),
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return self._sign(claims), claims

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self.key.private_key,
            algorithm=self.key.algorithm,
            headers={"kid": self.key.kid},
        )
