import pytest
from pydantic import ValidationError

from gateway.config import DEFAULT_ROUTES, GatewaySettings


def test_the_default_routes_are_the_contracts_table():
    settings = GatewaySettings()
    assert settings.routes == DEFAULT_ROUTES
    assert set(settings.upstream_urls) == {"auth", "accounting", "chat", "provisioning"}
    assert settings.upstream_urls["chat"] == "http://127.0.0.1:3002"
    assert settings.optional_upstreams == []  # every upstream is required
    assert settings.port == 8080 and settings.service_name == "gateway"


def test_everything_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHAT_URL", "http://chat:3002")
    monkeypatch.setenv("OPTIONAL_UPSTREAMS", "provisioning, chat")
    monkeypatch.setenv("ROUTES", '{"/api/chat": "chat", "/v1": "chat"}')
    monkeypatch.setenv("EDGE_REQUESTS_PER_MINUTE", "60")
    monkeypatch.setenv("KEY_CACHE_SECONDS", "10")
    settings = GatewaySettings()
    assert settings.upstream_urls == {"chat": "http://chat:3002"}  # only routed upstreams
    assert settings.optional_upstreams == ["provisioning", "chat"]
    assert (settings.edge_requests_per_minute, settings.key_cache_seconds) == (60, 10)
    monkeypatch.setenv("OPTIONAL_UPSTREAMS", "")
    assert GatewaySettings().optional_upstreams == []


def test_the_hardening_defaults(monkeypatch):
    settings = GatewaySettings()
    assert settings.trusted_proxies == []  # trust no proxy
    assert settings.max_body_bytes == 1_048_576
    assert (settings.key_refusal_cache_seconds, settings.api_key_failures_per_minute) == (30, 20)
    assert settings.jwks_url == "http://127.0.0.1:3000/api/auth/.well-known/jwks.json"
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("API_KEY_FAILURES_PER_MINUTE", "5")
    monkeypatch.setenv("AUTH_URL", "http://auth:3000")
    settings = GatewaySettings()
    assert (settings.max_body_bytes, settings.api_key_failures_per_minute) == (2048, 5)
    assert settings.jwks_url == "http://auth:3000/api/auth/.well-known/jwks.json"


@pytest.mark.parametrize(
    "overrides",
    [
        {"routes": {"/api/x": "billing"}},
        {"optional_upstreams": ["billing"]},
        {"routes": {"/api/x/": "chat"}},
        {"routes": {"api/x": "chat"}},
        {"routes": {"/api/{x}": "chat"}},
        {"edge_requests_per_minute": -1},
        {"max_body_bytes": 0},
        {"api_key_failures_per_minute": -1},
        {"key_refusal_cache_seconds": -1},
        {"trusted_proxies": ["10.0.0.1/8"]},
    ],
)
def test_a_bad_configuration_is_refused(overrides):
    with pytest.raises(ValidationError):
        GatewaySettings(**overrides)
