"""Team API keys (``Bearer sk-...``) exchanged with auth for a short-lived JWT, cached briefly.

The auth upstream here is a small stand-in for auth's side of it: the client-credentials grant
(``POST /api/auth/token``, the gateway's own token) and ``POST /internal/api-keys/exchange
{"apiKey"}`` -> ``{accessToken, expiresIn}`` (401 ``invalid_api_key`` for a key it does not
accept, 401 ``invalid_token`` without the gateway's token), and it echoes every other request.
Served over real HTTP like every other upstream; the gateway side under test is real (auth's
own route is tested in auth's suite and end to end).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api_keys.exchange import (
    ApiKeyTokens,
    AuthServiceKeyExchange,
    ExchangedToken,
    ExchangeUnavailable,
    InvalidApiKey,
)
from infra_fixtures.servers import serve_app
from service_client import ServiceClient, ServiceTokens
from service_kit import ApiError, ServiceSettings
from service_kit import create_app as create_service_app
from service_kit.request_context import request_id_var

from ..conftest import bearer, closed_port_url, echo_router, header_values

GATEWAY_TOKEN = "the-gateways-service-token"


@dataclass
class FakeAuth:
    url: str = ""
    keys: dict[str, str] = field(default_factory=dict)  # key -> team
    expires_in: float = 300
    delay: float = 0.0
    status: int = 200
    calls: list[str] = field(default_factory=list)
    seen: list[dict[str, str | None]] = field(default_factory=list)

    def revoke(self, key: str) -> None:
        del self.keys[key]


def fake_auth_app(state: FakeAuth):
    router = APIRouter()

    @router.post("/api/auth/token")
    async def token() -> JSONResponse:
        return JSONResponse(
            {
                "access_token": GATEWAY_TOKEN,
                "token_type": "Bearer",
                "expires_in": 600,
                "scope": "api-keys:exchange",
            }
        )

    @router.post("/internal/api-keys/exchange")
    async def exchange(request: Request) -> JSONResponse:
        state.seen.append(
            {
                "authorization": request.headers.get("authorization"),
                "request_id": request.headers.get("x-request-id"),
                "body": (await request.body()).decode(),
            }
        )
        if request.headers.get("authorization") != f"Bearer {GATEWAY_TOKEN}":
            return JSONResponse({"message": "no", "code": "invalid_token"}, 401)
        body = await request.json()
        key = body["apiKey"]
        state.calls.append(key)
        await asyncio.sleep(state.delay)
        if state.status != 200:
            return JSONResponse({"message": "boom", "code": "internal_error"}, state.status)
        if key not in state.keys:
            return JSONResponse({"message": "Invalid API key", "code": "invalid_api_key"}, 401)
        return JSONResponse(
            {"accessToken": f"jwt-for-{state.keys[key]}", "expiresIn": state.expires_in}
        )

    # Every other auth route: the echo stand-in's.
    return create_service_app(
        ServiceSettings(service_name="fake-auth", environment="test"),
        title="fake auth with the API key exchange",
        routers=[router, echo_router("auth", {})],
    )


@pytest.fixture
def start_with_auth(start_gateway):
    """A fake auth (implementing the exchange) served over HTTP, and a gateway in front."""

    @contextlib.asynccontextmanager
    async def start(state: FakeAuth, **overrides) -> AsyncIterator[str]:
        async with serve_app(fake_auth_app(state)) as auth_url:
            state.url = auth_url
            async with start_gateway(auth_url=auth_url, **overrides) as url:
                yield url

    return start


async def test_an_api_key_is_exchanged_once_and_the_jwt_forwarded(http, start_with_auth):
    auth = FakeAuth(keys={"sk-team-one": "team1"})
    async with start_with_auth(auth) as url:
        for path in ("/api/chat/sessions", "/api/credits/balance", "/api/auth/me"):
            response = await http.get(f"{url}{path}", headers=bearer("sk-team-one"))
            assert response.status_code == 200, response.text
            echoed = response.json()
            assert header_values(echoed, "authorization") == ["Bearer jwt-for-team1"]
            assert "sk-team-one" not in str(echoed["headers"])
    assert auth.calls == ["sk-team-one"]  # cached for the next two requests


async def test_a_jwt_or_no_token_is_forwarded_as_sent(http, start_with_auth):
    auth = FakeAuth()
    async with start_with_auth(auth) as url:
        with_jwt = await http.get(f"{url}/api/chat/sessions", headers=bearer("eyJ.a.b"))
        without = await http.get(f"{url}/api/models")
    assert header_values(with_jwt.json(), "authorization") == ["Bearer eyJ.a.b"]
    assert header_values(without.json(), "authorization") == []
    assert auth.calls == []


async def test_an_unknown_key_is_401_and_never_reaches_the_service(http, start_with_auth):
    auth = FakeAuth()
    async with start_with_auth(auth) as url:
        response = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-nope"))
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid authentication token", "code": "invalid_token"}
    assert response.headers["x-request-id"]


async def test_a_revoked_key_stops_working_once_its_cache_entry_expires(http, start_with_auth):
    auth = FakeAuth(keys={"sk-revoke-me": "team2"})
    async with start_with_auth(auth, key_cache_seconds=1) as url:
        ok = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-revoke-me"))
        assert ok.status_code == 200
        auth.revoke("sk-revoke-me")
        # Within the cache time the JWT already issued is reused...
        cached = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-revoke-me"))
        assert cached.status_code == 200
        assert auth.calls == ["sk-revoke-me"]
        # ...and once it expires the key is asked about again, and refused.
        await asyncio.sleep(1.1)
        refused = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-revoke-me"))
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"
        assert auth.calls == ["sk-revoke-me", "sk-revoke-me"]


async def test_a_jwt_is_never_reused_within_5_s_of_its_expiry(http, start_with_auth):
    """Cached for min(expiresIn - 5, KEY_CACHE_SECONDS): here 6 - 5 = 1 s, not 30."""
    auth = FakeAuth(keys={"sk-short": "team3"}, expires_in=6)
    async with start_with_auth(auth, key_cache_seconds=30) as url:
        await http.get(f"{url}/api/models", headers=bearer("sk-short"))
        await http.get(f"{url}/api/models", headers=bearer("sk-short"))
        assert len(auth.calls) == 1
        await asyncio.sleep(1.1)
        await http.get(f"{url}/api/models", headers=bearer("sk-short"))
        assert len(auth.calls) == 2


async def test_concurrent_requests_with_a_new_key_exchange_it_once(http, start_with_auth):
    auth = FakeAuth(keys={"sk-busy": "team4"}, delay=0.2)
    async with start_with_auth(auth) as url:
        responses = await asyncio.gather(
            *(http.get(f"{url}/api/chat/x", headers=bearer("sk-busy")) for _ in range(10))
        )
    assert [r.status_code for r in responses] == [200] * 10
    assert auth.calls == ["sk-busy"]


async def test_auth_failing_is_503(http, start_with_auth):
    auth = FakeAuth(keys={"sk-team": "team5"}, status=500)
    async with start_with_auth(auth) as url:
        response = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-team"))
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_unavailable"
    assert response.json()["details"] == {"upstream": "auth"}


async def test_auth_not_answering_is_503(http, start_gateway):
    async with start_gateway(auth_url=closed_port_url()) as url:
        response = await http.get(f"{url}/api/chat/sessions", headers=bearer("sk-team"))
        # Requests without a key do not need auth.
        plain = await http.get(f"{url}/api/chat/sessions", headers=bearer("eyJ.a.b"))
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_unavailable"
    assert "auth" in response.json()["message"]
    assert plain.status_code == 200


# --- the cache on its own, with a clock the test turns ------------------------------------


class CountingExchange:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    async def exchange(self, api_key, request_id=None):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_the_cache_keeps_no_key_and_expires_on_the_clock():
    now = [1000.0]
    exchange = CountingExchange(
        [ExchangedToken("jwt-1", 300), InvalidApiKey(), ExchangeUnavailable("down")]
    )
    tokens = ApiKeyTokens(exchange, 30, refusal_cache_seconds=0, clock=lambda: now[0])
    assert await tokens.token_for("sk-a") == "jwt-1"
    assert "sk-a" not in repr(tokens._cache)
    now[0] += 29.9
    assert await tokens.token_for("sk-a") == "jwt-1"
    assert exchange.calls == 1
    now[0] += 0.2
    with pytest.raises(ApiError) as refused:
        await tokens.token_for("sk-a")
    assert (refused.value.status, refused.value.code) == (401, "invalid_token")
    with pytest.raises(ApiError) as unavailable:
        await tokens.token_for("sk-a")
    assert unavailable.value.status == 503


async def test_the_cache_is_bounded():
    exchange = CountingExchange([ExchangedToken(f"jwt-{i}", 300) for i in range(5)])
    tokens = ApiKeyTokens(exchange, 30, max_entries=3)
    for i in range(5):
        await tokens.token_for(f"sk-{i}")
    assert len(tokens._cache) == 3


async def test_the_exchange_speaks_the_documented_wire_format():
    auth = FakeAuth(keys={"sk-x": "team-x"}, expires_in=60)
    async with serve_app(fake_auth_app(auth)) as auth_url:
        tokens = ServiceTokens(auth_url, "gateway", "dev-gateway-client-secret")
        client = ServiceClient(auth_url, "auth", tokens)
        exchange = AuthServiceKeyExchange(client, "/internal/api-keys/exchange")
        request_id = request_id_var.set("rid-1")
        try:
            token = await exchange.exchange("sk-x", "rid-1")
            with pytest.raises(InvalidApiKey):
                await exchange.exchange("sk-unknown")
        finally:
            request_id_var.reset(request_id)
            await client.aclose()
            await tokens.aclose()
    assert token == ExchangedToken("jwt-for-team-x", 60)
    assert auth.seen[0] == {
        "authorization": f"Bearer {GATEWAY_TOKEN}",
        "request_id": "rid-1",
        "body": '{"apiKey": "sk-x"}',
    }


async def test_a_refused_gateway_token_is_no_verdict_on_the_key():
    """A 401 about the gateway's own token (not invalid_api_key) must not turn a good key
    away as invalid: it is an outage of the exchange."""
    auth = FakeAuth(keys={"sk-x": "team-x"})
    async with serve_app(fake_auth_app(auth)) as auth_url:
        client = ServiceClient(auth_url, "auth", WrongToken())
        exchange = AuthServiceKeyExchange(client, "/internal/api-keys/exchange")
        try:
            with pytest.raises(ExchangeUnavailable):
                await exchange.exchange("sk-x")
        finally:
            await client.aclose()


class WrongToken:
    async def token(self) -> str:
        return "not-the-gateways-token"

    def invalidate(self, token: str) -> None:
        pass
