"""The edge rate limit: per bearer token, else per client address; health and metrics exempt;
Redis down lets requests through."""

import pytest

from ..conftest import bearer, closed_port_url, unique_token


@pytest.fixture
async def limited(start_gateway):
    async with start_gateway(edge_requests_per_minute=3) as url:
        yield url


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert "3 a minute" in body["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-request-id"]


async def test_a_token_past_its_limit_gets_429_with_retry_after(http, limited):
    token = unique_token()
    # Eight requests span at most two one-minute windows of 3 each: at least two are refused.
    responses = [
        await http.get(f"{limited}/api/chat/sessions", headers=bearer(token)) for _ in range(8)
    ]
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 200 and set(statuses) == {200, 429}, statuses
    assert statuses.count(429) >= 2, statuses
    for response in responses:
        if response.status_code == 429:
            _assert_rate_limited(response)
    # Another token has a bucket of its own.
    other = await http.get(f"{limited}/api/chat/sessions", headers=bearer(unique_token()))
    assert other.status_code == 200


async def test_without_a_token_the_client_address_is_counted(http, limited):
    # The test server trusts X-Forwarded-For from 127.0.0.1 (uvicorn's default), which is how
    # the gateway learns a client's address behind a load balancer.
    first = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [
        (await http.get(f"{limited}/api/models", headers=first)).status_code for _ in range(8)
    ]
    assert statuses.count(429) >= 2, statuses
    second = await http.get(f"{limited}/api/models", headers={"X-Forwarded-For": "203.0.113.8"})
    assert second.status_code == 200


async def test_health_and_metrics_are_never_limited(http, limited):
    for _ in range(6):
        assert (await http.get(f"{limited}/api/health")).status_code == 200
        assert (await http.get(f"{limited}/metrics")).status_code == 200
        ready = await http.get(f"{limited}/api/health/ready")
        assert ready.status_code in (200, 503)


async def test_redis_down_lets_requests_through(http, start_gateway, caplog):
    async with start_gateway(edge_requests_per_minute=1, redis_url=closed_port_url("redis")) as url:
        token = unique_token()
        statuses = [
            (await http.get(f"{url}/api/chat/sessions", headers=bearer(token))).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 200]
    assert any("edge rate limit unavailable" in r.getMessage() for r in caplog.records)


async def test_zero_turns_the_limit_off(http, start_gateway):
    async with start_gateway(edge_requests_per_minute=0) as url:
        token = unique_token()
        for _ in range(5):
            response = await http.get(f"{url}/api/models", headers=bearer(token))
            assert response.status_code == 200
