"""CORS from configuration: preflights answered at the edge, X-Request-ID exposed."""

import pytest

from gateway.config import DEVELOPMENT_CORS_ORIGINS, GatewaySettings

ORIGIN = "https://app.example.com"


@pytest.fixture
async def cors_gateway(start_gateway):
    async with start_gateway(cors_origins=[ORIGIN]) as url:
        yield url


async def test_a_preflight_from_an_allowed_origin_is_answered(http, cors_gateway):
    response = await http.options(
        f"{cors_gateway}/api/chat/sessions/s1/stream",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, last-event-id",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "last-event-id", "x-request-id"):
        assert header in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]


async def test_a_preflight_from_another_origin_is_refused_in_the_envelope(http, cors_gateway):
    response = await http.options(
        f"{cors_gateway}/api/chat/sessions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "cors_rejected"
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-request-id"]


async def test_a_cross_origin_response_exposes_the_request_id(http, cors_gateway):
    response = await http.get(f"{cors_gateway}/api/models", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    other = await http.get(f"{cors_gateway}/api/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_no_origin_is_allowed_when_none_is_configured(http, start_gateway):
    async with start_gateway(cors_origins=[]) as url:
        response = await http.get(f"{url}/api/models", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_defaults_none_in_production_and_localhost_only_in_development(monkeypatch):
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    production = GatewaySettings(environment="production", service_client_secret="real-secret")
    assert production.allowed_origins == []
    development = GatewaySettings(environment="development").allowed_origins
    assert development == DEVELOPMENT_CORS_ORIGINS
    assert all(o.startswith(("http://localhost:", "http://127.0.0.1:")) for o in development)
    assert "*" not in development


def test_origins_from_a_comma_list_or_json(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert GatewaySettings().allowed_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CORS_ORIGINS", '["https://c.example"]')
    assert GatewaySettings().allowed_origins == ["https://c.example"]
    monkeypatch.setenv("CORS_ORIGINS", "")
    assert GatewaySettings(environment="development").allowed_origins == []
