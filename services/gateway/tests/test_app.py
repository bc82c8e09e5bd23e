"""The gateway's own routes: OpenAPI, metrics, liveness."""

from .conftest import bearer, unique_token


async def test_openapi_documents_only_the_gateways_routes_and_says_the_rest_is_proxied(
    http, gateway
):
    schema = (await http.get(f"{gateway}/openapi.json")).json()
    assert set(schema["paths"]) == {"/api/health", "/api/health/ready"}
    description = schema["info"]["description"]
    assert "proxied" in description
    for row in ("| `/api/auth` | auth |", "| `/v1` | chat |", "| `/api/plans` | provisioning |"):
        assert row in description
    assert schema["info"]["title"] == "Gateway"
    for refusal in ("400 bad_request", "413", "payload_too_large", "TRUSTED_PROXIES"):
        assert refusal in description, refusal


async def test_metrics_count_upstream_requests_and_their_latency(http, gateway):
    token = unique_token()
    for _ in range(3):
        assert (await http.get(f"{gateway}/api/usage/stats", headers=bearer(token))).is_success
    text = (await http.get(f"{gateway}/metrics")).text
    assert 'gateway_upstream_requests_total{status="200",upstream="accounting"}' in text
    assert 'gateway_upstream_seconds_count{upstream="accounting"}' in text
    assert 'gateway_upstream_seconds_bucket{le="0.005",upstream="accounting"}' in text
    assert 'gateway_rate_limited_total{limit="api_key_failures"}' in text
    # The service kit's request metrics, labelled by the prefix's route template.
    assert (
        'http_requests_total{method="GET",route="/api/usage/{path:path}",'
        'service="gateway",status="200"}'
    ) in text


async def test_liveness(http, gateway):
    response = await http.get(f"{gateway}/api/health")
    assert response.json() == {"status": "ok", "service": "gateway"}
