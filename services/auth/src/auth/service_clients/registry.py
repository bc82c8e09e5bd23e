"""The platform's services as OAuth clients of auth, and what each may do.

Scopes are policy, reviewed with the code: a secret from the environment proves which service
is calling, this table says what that service may ask of the others.
"""

from dataclasses import dataclass

from jwt_contract.scopes import (
    ACCOUNTS_MANAGE,
    API_KEYS_EXCHANGE,
    API_KEYS_MANAGE,
    BYOK_READ,
    CREDITS_GRANT,
    CREDITS_RESERVE,
    CREDITS_SETTLE,
    CREDITS_TRANSFER,
    ORGANIZATIONS_READ,
    PLANS_READ,
    REVOCATIONS_READ,
    USAGE_RECORD,
    USERS_READ,
)

CLIENT_SCOPES: dict[str, frozenset[str]] = {
    "chat": frozenset(
        {CREDITS_RESERVE, CREDITS_SETTLE, USAGE_RECORD, PLANS_READ, REVOCATIONS_READ, BYOK_READ}
    ),
    "provisioning": frozenset(
        {
            USERS_READ,
            API_KEYS_MANAGE,
            ACCOUNTS_MANAGE,
            CREDITS_GRANT,
            CREDITS_TRANSFER,
            REVOCATIONS_READ,
        }
    ),
    "accounting": frozenset({USERS_READ, ORGANIZATIONS_READ, REVOCATIONS_READ}),
    "gateway": frozenset({API_KEYS_EXCHANGE, REVOCATIONS_READ}),
}


@dataclass(frozen=True)
class ServiceClient:
    client_id: str
    secret: str
    scopes: frozenset[str]
