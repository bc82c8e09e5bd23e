"""The gateway over real HTTP in front of real upstream servers, with real Redis.

Each upstream is a small service-kit app served with ``serve_app`` in the test loop: it echoes
what reached it (method, path, query, headers, body) and has a few routes that stream, stall,
or record being cancelled, so tests see from the upstream's side what the gateway did. The auth
stand-in also publishes a JWKS, so tokens signed with ``SIGNER`` verify at the gateway.

The gateway itself is served as ``gateway-service`` runs it: uvicorn believes no
X-Forwarded-For, so the gateway sees the connection's peer (127.0.0.1) and decides itself.
"""

import asyncio
import contextlib
import gzip
import hashlib
import ipaddress
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.api_keys.exchange import ExchangedToken, ExchangeUnavailable, InvalidApiKey
from gateway.config import GatewaySettings
from gateway.main import create_app
from infra_fixtures.servers import serve_app
from jwt_contract import SigningKey, StaticKeySet, TokenSigner
from service_kit import ServiceSettings
from service_kit import create_app as create_service_app

SERVICES = ("auth", "accounting", "chat", "provisioning")

# The auth stand-ins' signing key; GatewaySettings' default issuer and audience.
SIGNING_KEY = SigningKey(ed25519.Ed25519PrivateKey.generate(), "gateway-test-key", "EdDSA")
SIGNER = TokenSigner(SIGNING_KEY, issuer="llm-platform-auth", audience="llm-platform")


def signed_token(user_id: str | None = None, **claims: object) -> str:
    """A valid access token (a fresh user unless ``user_id``), with extra ``claims``."""
    token, _ = SIGNER.issue(
        user_id=user_id or f"user-{uuid.uuid4().hex}",
        username="someone",
        email="someone@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=300,
        extra=claims,
    )
    return token


def jwks_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/auth/.well-known/jwks.json")
    async def jwks() -> dict:
        return StaticKeySet([SIGNING_KEY.verification_key()]).jwks()

    return router


@dataclass
class Control:
    """What a streaming route of an upstream did, and a switch to let it go on."""

    first_sent: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    first_sent_at: float = 0.0
    second_sent_at: float = 0.0


@dataclass
class Upstream:
    name: str
    url: str
    app: FastAPI
    controls: dict[str, Control]

    def control(self) -> tuple[str, Control]:
        key = uuid.uuid4().hex
        self.controls[key] = Control()
        return key, self.controls[key]


def echo_router(name: str, controls: dict[str, "Control"]) -> APIRouter:
    """Routes of a stand-in service: test helpers under ``.../_test/``, else an echo."""
    router = APIRouter()

    @router.get("/{prefix:path}/_test/sse/{key}")
    async def sse(key: str) -> StreamingResponse:
        control = controls[key]
        loop = asyncio.get_running_loop()

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b"id: 1\nevent: one\ndata: {}\n\n"
                control.first_sent_at = loop.time()
                control.first_sent.set()
                await control.release.wait()
                control.second_sent_at = loop.time()
                yield b"id: 2\nevent: two\ndata: {}\n\n"
                control.finished.set()
            except asyncio.CancelledError:
                control.cancelled.set()
                raise

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/{prefix:path}/_test/slow")
    async def slow(seconds: float) -> dict:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @router.get("/{prefix:path}/_test/gzip")
    async def gzipped() -> Response:
        body = gzip.compress(b"compressed " * 1000)
        return Response(body, media_type="text/plain", headers={"Content-Encoding": "gzip"})

    @router.get("/{prefix:path}/_test/hop")
    async def hop() -> Response:
        response = JSONResponse({"ok": True})
        response.headers["Connection"] = "x-upstream-hop"
        response.headers["X-Upstream-Hop"] = "connection-scoped"
        response.headers["Keep-Alive"] = "timeout=5"
        response.headers["Proxy-Authenticate"] = "Basic"
        response.headers["X-End-To-End"] = "kept"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @router.api_route(
        "/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    )
    async def echo(request: Request) -> dict:
        body = await request.body()
        return {
            "service": name,
            "method": request.method,
            "path": request.url.path,
            "rawPath": request.scope["raw_path"].decode("latin-1"),
            "query": request.url.query,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
            "bodyLength": len(body),
            "bodySha256": hashlib.sha256(body).hexdigest(),
            "body": body[:200].decode("latin-1"),
        }

    return router


def upstream_app(name: str) -> FastAPI:
    """A stand-in for one of the platform's services, built with the same service kit."""
    controls: dict[str, Control] = {}
    app = create_service_app(
        ServiceSettings(
            service_name=f"fake-{name}", environment="test", max_body_bytes=16 * 1024 * 1024
        ),
        title=f"fake {name}",
        routers=[*([jwks_router()] if name == "auth" else []), echo_router(name, controls)],
    )
    app.state.controls = controls
    return app


def header_values(echoed: dict, name: str) -> list[str]:
    return [value for key, value in echoed["headers"] if key == name.lower()]


def closed_port_url(scheme: str = "http") -> str:
    """A URL where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A URL that accepts connections and never answers."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def upstreams() -> AsyncIterator[dict[str, Upstream]]:
    apps = {name: upstream_app(name) for name in SERVICES}
    async with contextlib.AsyncExitStack() as stack:
        found = {}
        for name, app in apps.items():
            url = await stack.enter_async_context(serve_app(app))
            found[name] = Upstream(name, url, app, app.state.controls)
        yield found


@pytest.fixture(scope="session")
def gateway_settings(redis_url, upstreams):
    """GatewaySettings for tests: every upstream is a stand-in unless overridden."""

    def make(**overrides) -> GatewaySettings:
        values = {
            "environment": "test",
            "redis_url": redis_url,
            **{f"{name}_url": upstream.url for name, upstream in upstreams.items()},
            "upstream_connect_timeout_seconds": 1,
            "upstream_read_timeout_seconds": 10,
            "readiness_timeout_seconds": 1,
            # Off unless a test turns them on: every test's requests come from 127.0.0.1, one
            # bucket for the whole run (and for a run in another terminal in the same minute).
            # Tests of the limits use buckets of their own (unique_address, signed_token).
            "edge_requests_per_minute": 0,
            "api_key_failures_per_minute": 0,
            **overrides,
        }
        return GatewaySettings(**values)

    return make


@pytest.fixture(scope="session")
def start_gateway(gateway_settings):
    """``async with start_gateway(**settings) as url``: a gateway of its own over HTTP."""

    @contextlib.asynccontextmanager
    async def start(*, key_exchange=None, **overrides) -> AsyncIterator[str]:
        app = create_app(gateway_settings(**overrides), key_exchange=key_exchange)
        async with contextlib.AsyncExitStack() as stack:
            # As gateway.main.run does: uvicorn's own X-Forwarded-For handling off.
            with pytest.MonkeyPatch.context() as env:
                env.setenv("FORWARDED_ALLOW_IPS", "")
                url = await stack.enter_async_context(serve_app(app))
            yield url

    return start


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gateway(start_gateway) -> AsyncIterator[str]:
    """The default gateway: every route leads to a stand-in that answers."""
    async with start_gateway() as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_token() -> str:
    """A made-up bearer token, unverifiable: the edge limit counts it by the client address."""
    return f"test-token-{uuid.uuid4().hex}"


def unique_address() -> str:
    """A client address of this test's own (sent as X-Forwarded-For through a gateway that
    trusts 127.0.0.1), so its requests get an edge rate-limit bucket of their own."""
    return str(ipaddress.IPv6Address(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"))


def through_proxy(address: str) -> dict[str, str]:
    """Headers a trusted proxy (127.0.0.1, with ``trusted_proxies="127.0.0.1"``) would add."""
    return {"X-Forwarded-For": address}


@dataclass
class StubExchange:
    """The API key exchange in process (``create_app(key_exchange=...)``): ``keys`` maps a key
    to the token auth gives for it; any other key is refused."""

    keys: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False
    calls: list[str] = field(default_factory=list)

    async def exchange(self, api_key: str, request_id: str | None = None) -> ExchangedToken:
        self.calls.append(api_key)
        if self.unavailable:
            raise ExchangeUnavailable("auth is down")
        if api_key not in self.keys:
            raise InvalidApiKey()
        return ExchangedToken(self.keys[api_key], 300)
