"""The service's signing key and the verifier for its own tokens."""

from auth.config import AuthSettings
from jwt_contract import SigningKey, StaticKeySet, TokenSigner, TokenVerifier


def load_signing_key(settings: AuthSettings) -> SigningKey:
    return SigningKey.from_pem(settings.jwt_private_key_file.read_bytes())


def build_signer(settings: AuthSettings, key: SigningKey) -> TokenSigner:
    return TokenSigner(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def build_verifier(settings: AuthSettings, key: SigningKey) -> TokenVerifier:
    keys = StaticKeySet([key.verification_key()])
    return TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
