"""The key and its budget are read from the token auth signed, and only well formed."""

import uuid

import pytest

from accounting.key_budgets.claims import SpendingKey, spending_key
from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key
from jwt_contract import Principal

from ..conftest import bearer, funded_user
from .keys import HAIKU


def principal(**claims) -> Principal:
    return Principal("u", "u", "u@example.com", "enduser", "access", "j", 0, claims)


def test_a_key_and_its_budget_from_the_claims():
    key_id = uuid.uuid4()
    assert spending_key(principal()) is None
    assert spending_key(principal(keyId=str(key_id))) == SpendingKey(key_id, None)
    assert spending_key(principal(keyId=str(key_id), keyBudgetMicro=5)) == SpendingKey(key_id, 5)


def signed_token(user_id: str, **claims) -> str:
    """A token as auth signs it (its development key), with the claims given."""
    defaults = AuthSettings(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    token, _ = signer.issue(
        user_id=user_id,
        username="someone",
        email="someone@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=300,
        extra=claims,
    )
    return token


@pytest.mark.parametrize(
    "claims",
    [
        {"keyId": "not-a-uuid"},
        {"keyId": 7},
        {"keyId": str(uuid.uuid4()), "keyBudgetMicro": "5000000"},
        {"keyId": str(uuid.uuid4()), "keyBudgetMicro": 0},
        {"keyId": str(uuid.uuid4()), "keyBudgetMicro": 1.5},
        {"keyId": str(uuid.uuid4()), "keyBudgetMicro": True},
        {"keyBudgetMicro": 5_000_000},
    ],
)
async def test_a_malformed_key_claim_is_an_invalid_token_and_holds_nothing(
    client, auth, db, claims
):
    user = await funded_user(client, auth, 10)
    answer = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10},
        headers={
            **bearer(user["chat"]),
            "X-On-Behalf-Of": f"Bearer {signed_token(user['id'], **claims)}",
        },
    )
    assert (answer.status_code, answer.json()["code"]) == (401, "invalid_token")
    assert (
        await db.fetchval("SELECT count(*) FROM reservations WHERE user_id = $1", user["id"]) == 0
    )
