"""Tokens refused before they expire: the revocation check every service makes offline.

Auth announces on the bus what makes tokens already issued invalid (CONTRACT.md "Revocation
within a second"): ``user.updated`` (a role change or a disable raises the user's token
version: tokens with an older ``tv`` claim are refused), ``api_key.revoked`` (tokens of that
key, from ``effectiveAt`` on: a rotated key's grace period), ``organization.deleted`` (every
token of a key of its teams). Each service keeps what it heard here, in memory: the check costs
a few dict look-ups and no round trip. What was announced while a service was not listening
it reads from auth when it starts (``Revocations.merge``).

Entries are kept for ``retention`` seconds, longer than any token lives, then forgotten.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

# The longest a token that may be revoked lives (access tokens: ACCESS_TOKEN_TTL_SECONDS, at
# most a day), with room for clock skew.
DEFAULT_RETENTION_SECONDS = 86_400 + 300


@dataclass
class Revocations:
    retention: float = DEFAULT_RETENTION_SECONDS
    clock: Callable[[], float] = time.time
    # user id -> (lowest token version still valid, when heard)
    _users: dict[str, tuple[int, float]] = field(default_factory=dict)
    # key id -> (refused from this time on, when heard)
    _keys: dict[str, tuple[float, float]] = field(default_factory=dict)
    # organization id -> when heard
    _organizations: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._users) + len(self._keys) + len(self._organizations)

    def revoke_user_tokens(self, user_id: str, below_version: int) -> None:
        known = self._users.get(user_id)
        if known is None or below_version > known[0]:
            self._users[user_id] = (below_version, self.clock())

    def revoke_key(self, key_id: str, effective_at: float | None = None) -> None:
        at = self.clock() if effective_at is None else effective_at
        known = self._keys.get(key_id)
        if known is None or at < known[0]:
            self._keys[key_id] = (at, self.clock())

    def revoke_organization(self, organization_id: str) -> None:
        self._organizations.setdefault(organization_id, self.clock())

    def reason_to_refuse(self, claims: Mapping[str, Any]) -> str | None:
        """Why a token with these (verified) claims is revoked; None when it is not."""
        if self._users:
            user = self._users.get(str(claims.get("sub")))
            if user is not None and _version(claims) < user[0]:
                return "the user's tokens were revoked"
        key_id = claims.get("keyId")
        if isinstance(key_id, str):
            key = self._keys.get(key_id)
            if key is not None and self.clock() >= key[0]:
                return "the API key was revoked"
        organization = claims.get("organizationId")
        if isinstance(organization, str) and organization in self._organizations:
            return "the organization was deleted"
        return None

    def apply_event(self, event_type: str, body: Mapping[str, Any]) -> bool:
        """Take in one bus event; False when it is not about revocation or is malformed."""
        if event_type == "user.updated":
            user_id, version = body.get("userId"), body.get("tokenVersion")
            if isinstance(user_id, str) and _is_int(version):
                self.revoke_user_tokens(user_id, int(version))
                return True
        elif event_type == "api_key.revoked":
            key_id, at = body.get("keyId"), body.get("effectiveAt")
            if isinstance(key_id, str):
                self.revoke_key(key_id, float(at) if _is_number(at) else None)
                return True
        elif event_type == "organization.deleted":
            organization = body.get("organizationId")
            if isinstance(organization, str):
                self.revoke_organization(organization)
                return True
        return False

    def merge(self, snapshot: Mapping[str, Any]) -> None:
        """Take in auth's list of recent revocations (``GET /internal/revocations``)."""
        for user_id, version in (snapshot.get("users") or {}).items():
            if _is_int(version):
                self.revoke_user_tokens(str(user_id), int(version))
        for key_id, at in (snapshot.get("keys") or {}).items():
            if _is_number(at):
                self.revoke_key(str(key_id), float(at))
        for organization in snapshot.get("organizations") or []:
            self.revoke_organization(str(organization))

    def forget_old(self) -> None:
        """Drop entries no token they could refuse can outlive."""
        horizon = self.clock() - self.retention
        self._users = {k: v for k, v in self._users.items() if v[1] >= horizon}
        self._keys = {k: v for k, v in self._keys.items() if max(v) >= horizon}
        self._organizations = {k: v for k, v in self._organizations.items() if v >= horizon}


def _version(claims: Mapping[str, Any]) -> int:
    value = claims.get("tv", 0)
    return int(value) if _is_int(value) else 0


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
