import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from jwt_contract import SigningKey, StaticKeySet, TokenSigner, TokenVerifier

ISSUER = "test-issuer"
AUDIENCE = "test-audience"


def pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return SigningKey.from_pem(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey.from_pem(pem(ed25519.Ed25519PrivateKey.generate()))


@pytest.fixture(scope="session")
def signer(rsa_key) -> TokenSigner:
    return TokenSigner(rsa_key, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="session")
def verifier(rsa_key, ed_key) -> TokenVerifier:
    keys = StaticKeySet([rsa_key.verification_key(), ed_key.verification_key()])
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)


def issue(signer, token_type="access", ttl=60, role="enduser", **extra):
    token, _ = signer.issue(
        user_id="u-1",
        username="user1",
        email="user1@example.com",
        role=role,
        token_type=token_type,
        ttl_seconds=ttl,
        extra=extra or None,
    )
    return token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: object, claims: object, signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def valid_claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-1",
        "username": "user1",
        "email": "user1@example.com",
        "role": "enduser",
        "type": "access",
        "jti": "j-1",
        "iat": now,
        "exp": now + 60,
    }
    claims.update(overrides)
    return claims
