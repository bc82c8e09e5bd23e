"""What a verified token says about its bearer."""

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["enduser", "supervisor", "admin"]
TokenType = Literal["access", "refresh"]
ROLES: tuple[Role, ...] = ("enduser", "supervisor", "admin")
# A service's own token (client credentials) says ``type: service``; no user token does.
SERVICE_TOKEN_TYPE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """The bearer of a verified token. ``user_id`` is the stable ``sub``, never the username."""

    user_id: str
    username: str
    email: str
    role: Role
    token_type: TokenType
    token_id: str
    expires_at: int
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """A platform service authenticated as itself (OAuth 2.0 client credentials at auth).

    ``service`` is the token's ``sub`` (the client id); ``scopes`` what auth granted it."""

    service: str
    scopes: frozenset[str]
    token_id: str
    expires_at: int

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
