"""The names other packages import from jwt_contract: a change here is a change to every
service, so it is made on purpose (and this list with it)."""

import importlib

import pytest

SURFACE = {
    "jwt_contract": [
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
    ],
    "jwt_contract.dependencies": [
        "BearerToken",
        "CurrentPrincipal",
        "INVALID_TOKEN_MESSAGE",
        "ON_BEHALF_OF_HEADER",
        "OnBehalfOf",
        "OnBehalfOfHeader",
        "OptionalOnBehalfOf",
        "RequireAdmin",
        "RequireSupervisor",
        "bearer_token",
        "current_principal",
        "invalid_token",
        "mfa_setup_required",
        "on_behalf_of",
        "optional_on_behalf_of",
        "require_role",
        "require_scope",
        "service_only",
    ],
    "jwt_contract.keys": [
        "Algorithm",
        "KeySet",
        "SigningKey",
        "StaticKeySet",
        "VerificationKey",
        "b64url_decode",
        "b64url_encode",
        "thumbprint",
    ],
    "jwt_contract.remote": ["TokenSettings", "auth_client", "jwks_verifier"],
    "jwt_contract.scopes": [
        "ACCOUNTS_MANAGE",
        "API_KEYS_EXCHANGE",
        "API_KEYS_MANAGE",
        "BYOK_READ",
        "CREDITS_GRANT",
        "CREDITS_RESERVE",
        "CREDITS_SETTLE",
        "CREDITS_TRANSFER",
        "ORGANIZATIONS_READ",
        "PLANS_READ",
        "REVOCATIONS_READ",
        "USAGE_RECORD",
        "USERS_READ",
    ],
}


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_the_public_names_are_exactly_these_and_importable(module_name):
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(SURFACE[module_name])
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_the_scopes_are_the_strings_auth_grants():
    scopes = importlib.import_module("jwt_contract.scopes")
    values = [getattr(scopes, name) for name in scopes.__all__]
    assert len(set(values)) == len(values)
    assert all(isinstance(value, str) and ":" in value for value in values)
