"""What a service other than auth needs to verify tokens: settings and a JWKS verifier."""

import httpx
from pydantic import BaseModel, Field, field_validator

from jwt_contract.claims import ROLES, Role
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
    require_2fa_roles: str = Field(
        "",
        description="Comma-separated roles (enduser, supervisor, admin) whose users' tokens "
        "this service refuses (403 mfa_setup_required) unless auth issued them with 2FA on "
        "(the mfaEnabled claim); set it as auth's REQUIRE_2FA_ROLES",
    )

    @field_validator("require_2fa_roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        unknown = set(_words(value)) - set(ROLES)
        if unknown:
            raise ValueError(
                f"REQUIRE_2FA_ROLES names unknown roles {sorted(unknown)}; "
                f"roles are {', '.join(ROLES)}"
            )
        return value

    @property
    def roles_requiring_2fa(self) -> frozenset[Role]:
        return frozenset(role for role in ROLES if role in _words(self.require_2fa_roles))

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
        roles_requiring_2fa=settings.roles_requiring_2fa,
    )


def _words(value: str) -> list[str]:
    return [word.strip() for word in value.split(",") if word.strip()]
