"""Which limit bucket a request counts in: the verified caller, else its address."""

import uuid

import pytest

from gateway.callers.identity import Caller, Callers
from jwt_contract import StaticKeySet, TokenVerifier

from ..conftest import SIGNER, SIGNING_KEY, signed_token


class CountingVerifier(TokenVerifier):
    calls = 0

    async def verify_async(self, token, expected_type="access"):
        self.calls += 1
        return await super().verify_async(token, expected_type)


def _verifier() -> CountingVerifier:
    keys = StaticKeySet([SIGNING_KEY.verification_key()])
    return CountingVerifier(keys, issuer=SIGNER.issuer, audience=SIGNER.audience)


@pytest.fixture
def callers() -> Callers:
    return Callers(_verifier())


async def identify(callers: Callers, token: str | None, address: str) -> Caller:
    return await callers.identify(token, address)


async def test_a_users_token_is_the_user(callers):
    assert await identify(callers, signed_token("u-1"), "192.0.2.1") == Caller("user:u-1")


async def test_an_api_keys_token_is_the_key_with_its_own_limit(callers):
    key_id = str(uuid.uuid4())
    token = signed_token("team-1", keyId=key_id, requestsPerMinute=30)
    assert await identify(callers, token, "192.0.2.1") == Caller(f"key:{key_id}", 30)
    no_limit = signed_token("team-1", keyId=key_id)
    assert await identify(callers, no_limit, "192.0.2.1") == Caller(f"key:{key_id}")


@pytest.mark.parametrize("limit", [True, "30", 0, -5, 2.5, None])
async def test_a_limit_that_is_no_positive_integer_is_none(callers, limit):
    token = signed_token("team-1", keyId="k-1", requestsPerMinute=limit)
    assert await identify(callers, token, "192.0.2.1") == Caller("key:k-1")


async def test_anything_unverified_is_the_address(callers):
    good = signed_token("u-1")
    refresh, _ = SIGNER.issue(
        user_id="u-1",
        username="u",
        email="u@example.com",
        role="enduser",
        token_type="refresh",
        ttl_seconds=300,
    )
    expired, _ = SIGNER.issue(
        user_id="u-1",
        username="u",
        email="u@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=-3600,
    )
    service, _ = SIGNER.issue_service(service="chat", scopes=["usage:record"], ttl_seconds=300)
    for token in (
        None,
        "",
        "garbage",
        "a.b.c",
        good[:-3] + "AAA",  # another signature
        good + "\u00e9",  # not ASCII
        refresh,
        expired,
        service,
    ):
        assert await identify(callers, token, "192.0.2.1") == Caller("ip:192.0.2.1"), token


async def test_a_verified_token_is_remembered_for_a_minute_at_most():
    now = [1_000_000_000.0]
    verifier = _verifier()
    callers = Callers(verifier, clock=lambda: now[0])
    token = signed_token("u-1")
    for _ in range(3):
        assert await callers.identify(token, "192.0.2.1") == Caller("user:u-1")
    assert verifier.calls == 1
    now[0] += 61
    assert await callers.identify(token, "192.0.2.1") == Caller("user:u-1")
    assert verifier.calls == 2
    # What did not verify is never remembered: each time it is checked again.
    for _ in range(2):
        assert await callers.identify("a.b.c", "192.0.2.1") == Caller("ip:192.0.2.1")
    assert verifier.calls == 4


async def test_a_remembered_token_is_forgotten_at_its_expiry():
    verifier = _verifier()
    now = [0.0]
    callers = Callers(verifier, clock=lambda: now[0])
    token = signed_token("u-1")
    expires_at = verifier.verify(token).expires_at
    now[0] = expires_at - 10  # (the verifier's own clock says the token is still good)
    await callers.identify(token, "192.0.2.1")
    now[0] = expires_at + 1
    await callers.identify(token, "192.0.2.1")
    assert verifier.calls == 2


async def test_the_memory_is_bounded():
    callers = Callers(_verifier(), max_entries=3)
    for i in range(5):
        await callers.identify(signed_token(f"u-{i}"), "192.0.2.1")
    assert len(callers._verified) == 3
