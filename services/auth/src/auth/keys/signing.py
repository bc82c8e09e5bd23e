"""The service's signing key, the public keys it publishes, and the verifier for its own
tokens."""

from auth.config import AuthSettings
from jwt_contract import SigningKey, StaticKeySet, TokenSigner, TokenVerifier


def load_signing_key(settings: AuthSettings) -> SigningKey:
    return SigningKey.from_pem(settings.jwt_private_key_file.read_bytes())


def public_keys(key: SigningKey) -> StaticKeySet:
    """What ``/.well-known/jwks.json`` publishes and auth's own verifier trusts."""
    return StaticKeySet([key.verification_key()])


def build_signer(settings: AuthSettings, key: SigningKey) -> TokenSigner:
    return TokenSigner(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


# Tokens whose signature auth's verifier remembers having checked (a client sends the same
# access token with every request; the claims and revocations are still checked each time).
REMEMBERED_TOKENS = 10_000


def build_verifier(settings: AuthSettings, keys: StaticKeySet) -> TokenVerifier:
    return TokenVerifier(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        remember=REMEMBERED_TOKENS,
    )
