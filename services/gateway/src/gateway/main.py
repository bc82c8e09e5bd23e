"""The gateway: the platform's single public entry, routing by path prefix to the services."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as redis
from fastapi import FastAPI

from gateway.api_keys.exchange import ApiKeyTokens, AuthServiceKeyExchange, KeyExchange
from gateway.config import GatewaySettings
from gateway.cors import install_cors
from gateway.health import router as health_router
from gateway.health.service import Readiness
from gateway.limits.edge_limit import EdgeRateLimiter
from gateway.proxy.router import proxy_routes
from gateway.proxy.service import Proxy
from gateway.proxy.upstreams import close_upstreams, open_upstreams
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
        "exchanged with the auth service for a short-lived JWT before forwarding. "
        "Gateway errors use the platform envelope `{message, code}`: `502 "
        "upstream_unavailable` (the service does not answer), `504 upstream_timeout`, "
        "`429 rate_limited` (edge limit per client, with `Retry-After`), `401 invalid_token` "
        "(refused API key).\n\n"
        "`GET /api/health/ready` checks Redis and asks every upstream's own "
        "`/api/health/ready` at once: `200 {status, checks, services, optional}`, or `503 "
        "not_ready` naming what is down, with `details.services` giving each upstream's "
        "state (`ok` or `down`). Upstreams in OPTIONAL_UPSTREAMS are reported but do not "
        "make the gateway unready."
    )


def create_app(
    settings: GatewaySettings | None = None, *, key_exchange: KeyExchange | None = None
) -> FastAPI:
    """The app; ``key_exchange`` replaces the auth service's API key exchange."""
    settings = settings or GatewaySettings()
    # httpx logs every request it sends at INFO: here, one more line per proxied request,
    # which the service kit's access log already has.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = open_upstreams(settings)
        cache = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        auth = httpx.AsyncClient(
            base_url=settings.auth_url,
            timeout=httpx.Timeout(settings.key_exchange_timeout_seconds),
            trust_env=False,
        )
        exchange = key_exchange or AuthServiceKeyExchange(auth, settings.api_key_exchange_path)
        app.state.proxy = Proxy(
            upstreams,
            EdgeRateLimiter(cache, settings.edge_requests_per_minute),
            ApiKeyTokens(exchange, settings.key_cache_seconds),
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
            await cache.aclose()

    app = create_service_app(
        settings,
        title="Gateway",
        description=_description(settings),
        lifespan=lifespan,
    )
    # The service kit's readiness runs local checks only; the gateway's also asks every
    # upstream. Routes match in order, so placed first it answers /api/health/ready (the
    # kit's route stays, unreachable, documenting the path in the OpenAPI schema).
    app.include_router(health_router.router)
    app.router.routes.insert(0, app.router.routes.pop())
    app.router.routes.extend(proxy_routes(settings.routes))
    install_cors(app, settings.allowed_origins)
    return app


def run() -> None:
    run_service(GatewaySettings, create_app)
