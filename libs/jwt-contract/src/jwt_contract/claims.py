"""What a verified token says about its bearer."""

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["enduser", "supervisor", "admin"]
TokenType = Literal["access", "refresh"]
ROLES: tuple[Role, ...] = ("enduser", "supervisor", "admin")
# A service's own token (client credentials) says ``type: service``; no user token does.
SERVICE_TOKEN_TYPE = "service"
# True in a user's access token (and their personal keys') when the user had 2FA on when auth
# issued it: what each service's REQUIRE_2FA_ROLES checks, offline.
TWO_FACTOR_CLAIM = "mfaEnabled"


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

    @property
    def has_two_factor(self) -> bool:
        """Whether the token says its user has 2FA on (a token without the claim does not)."""
        return self.claims.get(TWO_FACTOR_CLAIM) is True

    @property
    def acts_as_team(self) -> bool:
        """A team API key's token: it acts as a team, no person's 2FA applies to it."""
        return "teamId" in self.claims


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
