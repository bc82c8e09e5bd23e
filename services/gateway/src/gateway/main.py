"""The gateway: the platform's single public entry, routing by path prefix to the services."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI

from gateway.api_keys.exchange import ApiKeyTokens, AuthServiceKeyExchange, KeyExchange
from gateway.callers.addresses import TrustedProxies
from gateway.callers.identity import Callers
from gateway.config import GatewaySettings
from gateway.console.files import load_console
from gateway.console.router import console_route
from gateway.cors import install_cors
from gateway.health import router as health_router
from gateway.health.service import Readiness
from gateway.limits.edge_limit import EdgeRateLimiter
from gateway.proxy.direct import GatewayApp
from gateway.proxy.router import proxy_routes
from gateway.proxy.service import Proxy
from gateway.proxy.upstreams import close_upstreams, open_upstreams
from jwt_contract.remote import auth_client, jwks_verifier
from service_client import ServiceClient, ServiceTokens
from service_kit import create_app as create_service_app
from service_kit import run_service


def _description(settings: GatewaySettings) -> str:
    rows = "\n".join(f"| `{prefix}` | {upstream} |" for prefix, upstream in settings.routes.items())
    return (
        "The single public entry of the platform. Only the routes below are the gateway's "
        "own; **every other request is proxied** to the service owning its path prefix, "
        "whose own OpenAPI documents it:\n\n"
        "| prefix | service |\n|---|---|\n"
        f"{rows}\n\n"
        "A prefix covers itself and everything below it; any other path is `404 not_found`. "
        "Request and response bodies are streamed both ways, Server-Sent Events unbuffered. "
        "Every response carries `X-Request-ID` (the client's when it sent a sane one), which "
        "is also passed to the service. `Authorization: Bearer sk-...` (a team API key) is "
        "exchanged with the auth service for a short-lived JWT before forwarding. The client's "
        "`X-On-Behalf-Of` and `X-Internal-Token` never reach a service; `X-Forwarded-For` (and "
        "`X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Real-IP`) are believed only from "
        "TRUSTED_PROXIES, and the service receives the client address the gateway determined.\n\n"
        "Gateway errors use the platform envelope `{message, code}`: `502 "
        "upstream_unavailable` (the service does not answer), `504 upstream_timeout`, "
        "`400 bad_request` (both `Transfer-Encoding` and `Content-Length`), `413 "
        "payload_too_large` (a body over MAX_BODY_BYTES), `429 rate_limited` with "
        "`Retry-After` (the edge limit per verified caller: user id, or API key id with the "
        "key's own `requestsPerMinute`; per client address for a request without a valid "
        "token; and too many failed API key attempts from one address), `401 invalid_token` "
        "(refused API key) and `503 upstream_unavailable` (API keys cannot be checked).\n\n"
        "`GET /api/health/ready` checks Redis and asks every upstream's own "
        "`/api/health/ready` at once: `200 {status, checks, services, optional}`, or `503 "
        "not_ready` naming what is down, with `details.services` giving each upstream's "
        "state (`ok` or `down`). Upstreams in OPTIONAL_UPSTREAMS are reported but do not "
        "make the gateway unready.\n\n"
        "With CONSOLE_DIST_DIR set, every other GET is the web console: a file of its build "
        "(`/assets/*` cached for a year, immutable), else `index.html` (`no-cache`) for a client "
        "route, under a strict Content-Security-Policy; paths under `/api` and `/v1` stay "
        "`404 not_found`."
    )


def create_app(
    settings: GatewaySettings | None = None, *, key_exchange: KeyExchange | None = None
) -> FastAPI:
    """The app; ``key_exchange`` replaces the auth service's API key exchange."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = open_upstreams(settings)
        cache = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        tokens = ServiceTokens(
            settings.auth_url, settings.service_client_id, settings.service_client_secret
        )
        auth = ServiceClient(
            settings.auth_url,
            "auth",
            tokens,
            timeout_seconds=settings.key_exchange_timeout_seconds,
        )
        exchange = key_exchange or AuthServiceKeyExchange(auth, settings.api_key_exchange_path)
        # Tokens are verified offline (the auth service's JWKS) only to know whom to limit.
        jwks = auth_client(settings)
        app.state.token_verifier = verifier = jwks_verifier(settings, jwks)
        key_failures = EdgeRateLimiter(
            cache,
            settings.api_key_failures_per_minute,
            key_prefix="gateway:key-failures",
            name="api_key_failures",
            what="failed API key attempts",
        )
        app.state.proxy = Proxy(
            upstreams,
            EdgeRateLimiter(cache, settings.edge_requests_per_minute),
            ApiKeyTokens(
                exchange,
                settings.key_cache_seconds,
                refusal_cache_seconds=settings.key_refusal_cache_seconds,
                failures=key_failures,
            ),
            Callers(verifier),
            trusted_proxies=TrustedProxies(settings.trusted_proxies),
            max_body_bytes=settings.max_body_bytes,
            api_key_prefix=settings.api_key_prefix,
        )
        app.state.readiness_checks["redis"] = cache.ping
        app.state.readiness = Readiness(
            upstreams, app.state.readiness_checks, settings.readiness_timeout_seconds
        )
        try:
            yield
        finally:
            await close_upstreams(upstreams)
            await auth.aclose()
            await tokens.aclose()
            await jwks.aclose()
            await cache.aclose()

    app = create_service_app(
        settings,
        title="Gateway",
        description=_description(settings),
        lifespan=lifespan,
        app_class=GatewayApp,
    )
    # The service kit's readiness runs local checks only; the gateway's also asks every
    # upstream. Routes match in order, so placed first it answers /api/health/ready (the
    # kit's route stays, unreachable, documenting the path in the OpenAPI schema).
    app.include_router(health_router.router)
    app.router.routes.insert(0, app.router.routes.pop())
    app.router.routes.extend(proxy_routes(settings.routes))
    if settings.console_dist_dir is not None:
        app.router.routes.append(
            console_route(load_console(settings.console_dist_dir), settings.routes)
        )
    install_cors(app, settings.allowed_origins)
    return app


def run() -> None:
    # uvicorn must hand the gateway the connection's own peer address, never one it took from
    # X-Forwarded-For itself: whom to believe is the gateway's call (TRUSTED_PROXIES).
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    run_service(GatewaySettings, create_app)
