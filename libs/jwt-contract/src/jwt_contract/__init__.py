"""The platform's JWT contract, shared by every service.

Only the auth service signs (:class:`TokenSigner`); every service verifies offline
(:class:`TokenVerifier`) with public keys from the auth service's JWKS (:class:`JwksKeySet`),
and protects routes with the FastAPI dependencies in :mod:`jwt_contract.dependencies`.
"""

from jwt_contract.claims import (
    ROLES,
    SERVICE_TOKEN_TYPE,
    Principal,
    Role,
    ServicePrincipal,
    TokenType,
)
from jwt_contract.errors import InvalidToken, UnknownKey
from jwt_contract.jwks import JwksKeySet
from jwt_contract.keys import KeySet, SigningKey, StaticKeySet, VerificationKey
from jwt_contract.revocations import Revocations
from jwt_contract.signer import TokenSigner
from jwt_contract.verifier import TokenVerifier

__all__ = [
    "ROLES",
    "SERVICE_TOKEN_TYPE",
    "InvalidToken",
    "JwksKeySet",
    "KeySet",
    "Principal",
    "Revocations",
    "Role",
    "ServicePrincipal",
    "SigningKey",
    "StaticKeySet",
    "TokenSigner",
    "TokenType",
    "TokenVerifier",
    "UnknownKey",
    "VerificationKey",
]
