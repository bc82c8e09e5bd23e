"""What a service other than auth needs to verify tokens: settings and a JWKS verifier."""

import httpx
from pydantic import BaseModel, Field

from jwt_contract.jwks import JwksKeySet
from jwt_contract.verifier import TokenVerifier

__all__ = [
    "TokenSettings",
    "auth_client",
    "jwks_verifier",
]


class TokenSettings(BaseModel):
    """Mix into a service's settings (JWT_ISSUER, JWT_AUDIENCE, AUTH_URL)."""

    jwt_issuer: str = "llm-platform-auth"
    jwt_audience: str = "llm-platform"
    auth_url: str = Field(
        "http://127.0.0.1:3000", description="The auth service: its JWKS, and user look-ups"
    )

    @property
    def jwks_url(self) -> str:
        return f"{self.auth_url.rstrip('/')}/api/auth/.well-known/jwks.json"


def auth_client(
    settings: TokenSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=settings.auth_url, timeout=5, transport=transport)


def jwks_verifier(settings: TokenSettings, client: httpx.AsyncClient) -> TokenVerifier:
    """A verifier with the auth service's published keys, fetched through ``client``."""
    return TokenVerifier(
        JwksKeySet(settings.jwks_url, client=client),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
