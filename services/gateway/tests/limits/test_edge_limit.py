"""The edge rate limit: per verified caller (user id, API key id, with the key's own
requests-per-minute), else per client address; health and metrics exempt; Redis down lets
requests through."""

import os
import uuid

import pytest

from gateway import main
from jwt_contract.keys import b64url_encode

from ..conftest import (
    SIGNER,
    StubExchange,
    bearer,
    closed_port_url,
    header_values,
    signed_token,
    through_proxy,
    unique_address,
    unique_token,
)


@pytest.fixture
async def limited(start_gateway):
    """A limit of 3 a minute, behind a trusted proxy (so each test has addresses of its own)."""
    async with start_gateway(edge_requests_per_minute=3, trusted_proxies="127.0.0.1") as url:
        yield url


def _assert_rate_limited(response, limit: int = 3) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert f"{limit} a minute" in body["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-request-id"]


def _refusals(responses, limit: int = 3) -> int:
    """How many were 429 (each checked); every other one must have passed."""
    assert {r.status_code for r in responses} <= {200, 429}, [r.status_code for r in responses]
    for response in responses:
        if response.status_code == 429:
            _assert_rate_limited(response, limit)
    return sum(r.status_code == 429 for r in responses)


async def test_a_user_past_its_limit_gets_429_with_retry_after(http, limited):
    token = signed_token()
    # Eight requests span at most two one-minute windows of 3 each: at least two are refused.
    responses = [
        await http.get(f"{limited}/api/chat/sessions", headers=bearer(token)) for _ in range(8)
    ]
    assert responses[0].status_code == 200
    assert _refusals(responses) >= 2
    # Another user has a bucket of their own, from the same address.
    other = await http.get(f"{limited}/api/chat/sessions", headers=bearer(signed_token()))
    assert other.status_code == 200


async def test_a_user_is_one_bucket_whatever_address_they_come_from(http, limited):
    token = signed_token()
    responses = [
        await http.get(
            f"{limited}/api/models", headers={**bearer(token), **through_proxy(unique_address())}
        )
        for _ in range(8)
    ]
    assert _refusals(responses) >= 2


async def test_rotating_made_up_tokens_from_one_address_hits_the_limit(http, limited):
    address = unique_address()
    responses = [
        await http.get(
            f"{limited}/api/chat/sessions",
            headers={**bearer(unique_token()), **through_proxy(address)},
        )
        for _ in range(8)
    ]
    assert _refusals(responses) >= 2
    # Not refused by the gateway for being invalid: the service saw the token as sent.
    passed = next(r for r in responses if r.status_code == 200)
    assert header_values(passed.json(), "authorization")[0].startswith("Bearer test-token-")
    # Another address has a bucket of its own.
    other = await http.get(
        f"{limited}/api/chat/sessions",
        headers={**bearer(unique_token()), **through_proxy(unique_address())},
    )
    assert other.status_code == 200


async def test_forged_and_expired_tokens_count_as_their_address(http, limited):
    address = unique_address()
    good = signed_token()
    signed = good[: good.rindex(".") + 1]
    forged = [signed + b64url_encode(os.urandom(64)) for _ in range(4)]  # another signature
    expired = [
        SIGNER.issue(
            user_id=f"user-{i}",
            username="u",
            email="u@example.com",
            role="enduser",
            token_type="access",
            ttl_seconds=-3600,
        )[0]
        for i in range(4)
    ]
    responses = [
        await http.get(f"{limited}/api/models", headers={**bearer(token), **through_proxy(address)})
        for token in forged + expired
    ]
    assert _refusals(responses) >= 2


async def test_a_trusted_proxys_forwarded_for_is_the_client(http, limited):
    address = unique_address()
    # The right-most address the trusted proxy (127.0.0.1) gives; what the client wrote before
    # it changes every time and does not matter.
    responses = [
        await http.get(
            f"{limited}/api/models", headers=through_proxy(f"{unique_address()}, {address}")
        )
        for _ in range(8)
    ]
    assert _refusals(responses) >= 2
    passed = next(r for r in responses if r.status_code == 200)
    assert header_values(passed.json(), "x-forwarded-for") == [address]
    other = await http.get(f"{limited}/api/models", headers=through_proxy(unique_address()))
    assert other.status_code == 200


async def test_an_untrusted_peers_forwarded_for_is_ignored(http, start_gateway):
    async with start_gateway(edge_requests_per_minute=3) as url:
        # Without TRUSTED_PROXIES, a new X-Forwarded-For each time is still the one peer.
        responses = [
            await http.get(f"{url}/api/models", headers=through_proxy(unique_address()))
            for _ in range(8)
        ]
    # (What the service is told is in proxy/test_headers.py: the peer, 127.0.0.1.)
    assert _refusals(responses) >= 2


def test_the_served_gateway_leaves_forwarded_for_to_trusted_proxies(monkeypatch):
    """``gateway-service`` turns uvicorn's own X-Forwarded-For handling off (it would believe
    127.0.0.1 by default), so the gateway sees the real peer and TRUSTED_PROXIES decides."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    seen = []
    monkeypatch.setattr(
        main, "run_service", lambda *_: seen.append(os.environ["FORWARDED_ALLOW_IPS"])
    )
    main.run()
    assert seen == [""]


async def test_an_api_keys_token_is_limited_by_key_and_its_own_requests_per_minute(
    http, start_gateway
):
    key_id = str(uuid.uuid4())
    # Two keys' worth of tokens for one key id (say, two replicas' exchanges): one bucket.
    exchange = StubExchange(
        keys={
            "sk-first": signed_token(keyId=key_id, requestsPerMinute=2),
            "sk-second": signed_token(keyId=key_id, requestsPerMinute=2),
        }
    )
    async with start_gateway(
        edge_requests_per_minute=100, trusted_proxies="127.0.0.1", key_exchange=exchange
    ) as url:
        responses = [
            await http.get(
                f"{url}/api/chat/sessions",
                headers={**bearer(key), **through_proxy(unique_address())},
            )
            for key in ["sk-first", "sk-second"] * 3
        ]
        # Six in at most two windows of 2: at least two refused, at 2 a minute, not 100.
        assert _refusals(responses, limit=2) >= 2
        # Another key, and a user, are not affected.
        other = signed_token(keyId=str(uuid.uuid4()), requestsPerMinute=2)
        for token in (other, signed_token()):
            response = await http.get(f"{url}/api/models", headers=bearer(token))
            assert response.status_code == 200


async def test_a_keys_own_limit_applies_with_the_edge_limit_off(http, start_gateway):
    token = signed_token(keyId=str(uuid.uuid4()), requestsPerMinute=1)
    async with start_gateway(edge_requests_per_minute=0) as url:
        responses = [await http.get(f"{url}/api/models", headers=bearer(token)) for _ in range(4)]
    assert _refusals(responses, limit=1) >= 2


async def test_health_and_metrics_are_never_limited(http, start_gateway):
    async with start_gateway(edge_requests_per_minute=1) as url:
        for _ in range(6):
            assert (await http.get(f"{url}/api/health")).status_code == 200
            assert (await http.get(f"{url}/metrics")).status_code == 200
            ready = await http.get(f"{url}/api/health/ready")
            assert ready.status_code in (200, 503)


async def test_redis_down_lets_requests_through(http, start_gateway, caplog):
    async with start_gateway(edge_requests_per_minute=1, redis_url=closed_port_url("redis")) as url:
        token = signed_token()
        statuses = [
            (await http.get(f"{url}/api/chat/sessions", headers=bearer(token))).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 200]
    assert any("edge rate limit unavailable" in r.getMessage() for r in caplog.records)


async def test_zero_turns_the_limit_off(http, start_gateway):
    async with start_gateway(edge_requests_per_minute=0) as url:
        token = signed_token()
        for _ in range(5):
            response = await http.get(f"{url}/api/models", headers=bearer(token))
            assert response.status_code == 200
