"""Offline token verification.

Written against ``cryptography`` directly rather than through PyJWT, because PyJWT misses the
target by more than the 1.5x the README's rule allows. Every service verifies a token on every
request; the target is 20,000 verifications/s per core. ``bench/jwt_verify.py`` (one process,
RS256 with RSA 2048, verifications per CPU second, PyJWT 2.15.1, two runs on the project's
shared 2-core machine) measured:

    access token         service token
    22,700-25,100 /s     21,700-23,500 /s   this verifier
     8,300 /s            10,300-10,400 /s   PyJWT.decode, a PyJWK cached per kid
    10,300-10,400 /s     11,700-13,300 /s   PyJWS.decode, claims checked as here

so PyJWT's best use is about 1.9x below the target on access tokens (half of its time goes to
checking each base64url character of the token in Python). Signing is PyJWT's (signer.py).

The rules: the header's ``alg`` must be the algorithm of the key its ``kid`` names (so ``none``
and HMAC are never accepted), ``crit`` headers are refused, and ``iss``, ``aud``, ``exp``,
``type`` and the identity claims must all be present and right, within ``leeway_seconds`` of
clock skew for ``exp`` and ``iat``; an access token is also checked against the revocations.
"""

import binascii
import time
from typing import Any, TypeGuard

import orjson

from jwt_contract.claims import (
    ROLES,
    SERVICE_TOKEN_TYPE,
    Principal,
    Role,
    ServicePrincipal,
    TokenType,
)
from jwt_contract.errors import InvalidToken, UnknownKey
from jwt_contract.keys import KeySet, VerificationKey, b64url_decode, b64url_encode
from jwt_contract.revocations import Revocations

_HEADER_CACHE_LIMIT = 64


class TokenVerifier:
    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        revocations: Revocations | None = None,
        roles_requiring_2fa: frozenset[Role] = frozenset(),
        remember: int = 0,
    ) -> None:
        """``remember``: how many tokens whose signature checked out to keep (0: none), so a
        client sending the same token again and again costs one signature check (most of a
        verification), not one per request. Everything else is checked on every call: the
        key must still be the one that verified it, and the claims (expiry, revocations...)
        must still hold."""
        self.keys = keys
        # REQUIRE_2FA_ROLES: the dependencies refuse such a user's token without 2FA (403).
        self.roles_requiring_2fa = roles_requiring_2fa
        # Tokens revoked before they expire (key revoked, user disabled...): see revocations.
        self.revocations = revocations if revocations is not None else Revocations()
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        # Tokens from one signer share a handful of distinct headers; parse each once.
        self._headers: dict[str, tuple[str, str]] = {}
        self._remember = remember
        # token -> (the key that verified its signature, its payload), oldest first
        self._signed: dict[str, tuple[VerificationKey, dict[str, Any]]] = {}

    def verify(self, token: str, expected_type: TokenType = "access") -> Principal:
        """Verify a user's token; raises :class:`InvalidToken` (or ``UnknownKey``)."""
        return self._principal(self._verified_claims(token), expected_type)

    def lacks_two_factor(self, principal: Principal) -> bool:
        """True for a person whose role is in ``roles_requiring_2fa`` and whose token does not
        say they have 2FA on (a team key's token is no person's)."""
        return (
            principal.role in self.roles_requiring_2fa
            and not principal.has_two_factor
            and not principal.acts_as_team
        )

    def verify_service(self, token: str) -> ServicePrincipal:
        """Verify a service's own token (``type: service``)."""
        return self._service(self._verified_claims(token))

    def verify_caller(self, token: str) -> Principal | ServicePrincipal:
        """A user's access token or a service token, whichever ``token`` is."""
        claims = self._verified_claims(token)
        if claims.get("type") == SERVICE_TOKEN_TYPE:
            return self._service(claims)
        return self._principal(claims, "access")

    async def verify_async(self, token: str, expected_type: TokenType = "access") -> Principal:
        """Like :meth:`verify`, but keeps the key set fresh and learns a new ``kid`` once."""
        return self._principal(await self._verified_claims_async(token), expected_type)

    async def verify_caller_async(self, token: str) -> Principal | ServicePrincipal:
        claims = await self._verified_claims_async(token)
        if claims.get("type") == SERVICE_TOKEN_TYPE:
            return self._service(claims)
        return self._principal(claims, "access")

    async def _verified_claims_async(self, token: str) -> dict[str, Any]:
        await self.keys.refresh_if_stale()
        try:
            return self._verified_claims(token)
        except UnknownKey as exc:
            if not await self.keys.refresh_for(exc.kid):
                raise
        return self._verified_claims(token)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The payload of a token whose signature is good and whose common claims (issuer,
        audience, expiry) hold; what kind of token it is is left to the caller."""
        signed = self._signed.get(token) if self._remember else None
        if signed is not None:
            checked_by, payload = signed
            _, kid = self._header(token.partition(".")[0])
            if self.keys.get(kid) is checked_by:  # not withdrawn or reloaded since
                claims = dict(payload)
                self._check_common(claims)
                return claims
            del self._signed[token]
        if not token.isascii():
            raise InvalidToken("not ASCII")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a compact JWS")
        header_b64, payload_b64, signature_b64 = parts
        alg, kid = self._header(header_b64)
        key = self.keys.get(kid)
        if key is None:
            raise UnknownKey(kid)
        if key.algorithm != alg:
            raise InvalidToken(f"alg {alg!r} does not match key {kid!r}")
        signature = _canonical_signature(signature_b64)
        if not key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii")):
            raise InvalidToken("bad signature")
        claims = _decode_json(payload_b64, "payload")
        self._check_common(claims)
        if self._remember:
            self._keep(token, key, claims)
        return claims

    def _keep(self, token: str, key: VerificationKey, claims: dict[str, Any]) -> None:
        if len(self._signed) >= self._remember:
            now = time.time()
            self._signed = {
                kept: entry
                for kept, entry in self._signed.items()
                if _expiry(entry[1]) + self.leeway >= now
            }
            while len(self._signed) >= self._remember:
                del self._signed[next(iter(self._signed))]  # the oldest
        self._signed[token] = (key, dict(claims))

    def _header(self, header_b64: str) -> tuple[str, str]:
        cached = self._headers.get(header_b64)
        if cached is not None:
            return cached
        header = _decode_json(header_b64, "header")
        alg, kid = header.get("alg"), header.get("kid")
        if "crit" in header:
            raise InvalidToken("crit header not supported")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidToken("missing or 'none' alg")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing kid")
        if len(self._headers) < _HEADER_CACHE_LIMIT:
            self._headers[header_b64] = (alg, kid)
        return alg, kid

    def _check_common(self, claims: dict[str, Any]) -> None:
        now = time.time()
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        aud = claims.get("aud")
        if aud != self.audience and not (isinstance(aud, list) and self.audience in aud):
            raise InvalidToken("wrong audience")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + self.leeway < now:
            raise InvalidToken("expired or no exp")
        if isinstance(iat, int | float) and iat - self.leeway > now:
            raise InvalidToken("issued in the future")

    def _principal(self, claims: dict[str, Any], expected_type: TokenType) -> Principal:
        if claims.get("type") != expected_type:
            raise InvalidToken(f"not an {expected_type} token")
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("unknown role")
        sub, username, email = claims.get("sub"), claims.get("username"), claims.get("email")
        jti = claims.get("jti")
        if not (_filled(sub) and _filled(username) and _filled(email) and _filled(jti)):
            raise InvalidToken("missing identity claims")
        # A refresh token goes back to auth, which reads the user afresh (a disabled user gets
        # no new tokens; after a role change the new ones carry the new role and version).
        refusal = self.revocations.reason_to_refuse(claims) if expected_type == "access" else None
        if refusal is not None:
            raise InvalidToken(refusal)
        return Principal(sub, username, email, role, expected_type, jti, int(claims["exp"]), claims)

    def _service(self, claims: dict[str, Any]) -> ServicePrincipal:
        if claims.get("type") != SERVICE_TOKEN_TYPE:
            raise InvalidToken("not a service token")
        sub, jti, scope = claims.get("sub"), claims.get("jti"), claims.get("scope")
        if not (_filled(sub) and _filled(jti)):
            raise InvalidToken("missing identity claims")
        if not isinstance(scope, str):
            raise InvalidToken("missing scope")
        return ServicePrincipal(sub, frozenset(scope.split()), jti, int(claims["exp"]))


def _expiry(claims: dict[str, Any]) -> float:
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else 0.0


def _filled(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value)


def _canonical_signature(segment: str) -> bytes:
    # base64 decoders ignore stray characters and the unused low bits of the last one, so
    # a token with one character changed could still verify. Only the canonical form counts.
    try:
        signature = b64url_decode(segment)
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("signature is not base64url") from exc
    if b64url_encode(signature) != segment:
        raise InvalidToken("signature is not canonical base64url")
    return signature


def _decode_json(segment: str, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(b64url_decode(segment))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidToken(f"{what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not a JSON object")
    return value
