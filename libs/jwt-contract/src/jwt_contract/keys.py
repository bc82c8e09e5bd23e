"""Signing and verification keys, and JWK (RFC 7517) forms of the public ones."""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

__all__ = [
    "Algorithm",
    "KeySet",
    "SigningKey",
    "StaticKeySet",
    "VerificationKey",
    "b64url_decode",
    "b64url_encode",
    "thumbprint",
]

Algorithm = str  # "RS256" or "EdDSA"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_to_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64_to_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


@dataclass(frozen=True)
class VerificationKey:
    """A public key bound to exactly one algorithm, so a token cannot pick another one."""

    kid: str
    algorithm: Algorithm
    public_key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey

    def verify(self, signature: bytes, signed: bytes) -> bool:
        try:
            if isinstance(self.public_key, rsa.RSAPublicKey):
                self.public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            else:
                self.public_key.verify(signature, signed)
        except InvalidSignature:
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        jwk = _public_jwk_members(self.public_key)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> "VerificationKey":
        kty = jwk.get("kty")
        if kty == "RSA":
            numbers = rsa.RSAPublicNumbers(_b64_to_int(jwk["e"]), _b64_to_int(jwk["n"]))
            return cls(str(jwk["kid"]), "RS256", numbers.public_key())
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            key = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
            return cls(str(jwk["kid"]), "EdDSA", key)
        raise ValueError(f"unsupported JWK key type {kty!r}")


def _public_jwk_members(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> dict[str, str]:
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "e": _int_to_b64(numbers.e), "n": _int_to_b64(numbers.n)}
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}


def thumbprint(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint: a kid that is the same wherever the key is loaded."""
    members = _public_jwk_members(key)
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class SigningKey:
    """A private key (RSA for RS256, Ed25519 for EdDSA) with its kid."""

    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    kid: str
    algorithm: Algorithm

    @classmethod
    def from_pem(cls, pem: bytes) -> "SigningKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 2048:
                raise ValueError("RSA signing keys must have at least 2048 bits")
            return cls(key, thumbprint(key.public_key()), "RS256")
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(key, thumbprint(key.public_key()), "EdDSA")
        raise ValueError("signing keys must be RSA (RS256) or Ed25519 (EdDSA)")

    def verification_key(self) -> VerificationKey:
        return VerificationKey(self.kid, self.algorithm, self.private_key.public_key())


class KeySet(Protocol):
    """Where a verifier finds public keys by kid."""

    def get(self, kid: str) -> VerificationKey | None: ...

    async def refresh_for(self, kid: str) -> bool:
        """Try to learn ``kid`` (e.g. after a key rotation); True when it is now known."""
        ...

    async def refresh_if_stale(self) -> None:
        """Reload keys whose cache has expired, so a withdrawn key stops verifying."""
        ...


class StaticKeySet:
    """Keys known up front: the auth service's own, or keys given to tests."""

    def __init__(self, keys: list[VerificationKey]) -> None:
        self._keys = {key.kid: key for key in keys}

    def get(self, kid: str) -> VerificationKey | None:
        return self._keys.get(kid)

    async def refresh_for(self, kid: str) -> bool:
        return False

    async def refresh_if_stale(self) -> None:
        return None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.to_jwk() for key in self._keys.values()]}
