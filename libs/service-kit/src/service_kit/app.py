"""The app factory every service builds on."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from service_kit import health, metrics
from service_kit.body_limit import BodyLimitMiddleware
from service_kit.docs import install_docs
from service_kit.errors import install_error_handlers
from service_kit.fastapi_internals import build_route_table
from service_kit.health import ReadinessCheck
from service_kit.middleware import RequestContextMiddleware
from service_kit.openapi import DocumentedApp
from service_kit.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str = "",
    version: str = "0.1.0",
    routers: Sequence[APIRouter] = (),
    lifespan: Lifespan | None = None,
    outage_responses: bool = False,
    app_class: type[DocumentedApp] = DocumentedApp,
) -> FastAPI:
    """A FastAPI app with the platform's error envelope, request ids, metrics and health, and
    the body limit (``MAX_BODY_BYTES``: 413 ``payload_too_large``) on every route.

    Services register readiness checks in their lifespan with
    ``app.state.readiness_checks["postgres"] = check`` (``Degradable(check)`` for one whose
    outage the service rides out). ``outage_responses`` documents on every operation the 503
    answered while a database or cache is unreachable. ``app_class`` is the app's class: a
    subclass of ``DocumentedApp`` (the gateway's answers its proxied requests itself).
    """
    app = app_class(
        title=title,
        description=description,
        version=version,
        lifespan=_with_route_table(lifespan),
        # No 307 from `/x/` to `/x`: a path value ending in `%2F` (decoded to `/`) was sent to
        # another resource, and behind the gateway the Location named the service's own
        # address. Such a path is simply not found.
        redirect_slashes=False,
        # Served by `install_docs` from a local package: FastAPI's pages load from a CDN.
        docs_url=None,
        redoc_url=None,
        # The platform's metrics are Prometheus (`/metrics`). FastAPI's own OpenTelemetry,
        # on by default, looks up OTel's global providers on every request (~10-15 us).
        telemetry=NO_TELEMETRY,
    )
    app.outage_responses = outage_responses
    app.state.settings = settings
    app.state.service_name = settings.service_name
    readiness_checks: dict[str, ReadinessCheck] = {}
    app.state.readiness_checks = readiness_checks
    install_error_handlers(app)
    install_docs(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in routers:
        app.include_router(router)
    # Added first, so inside the request context: a 413 has its X-Request-ID and is counted.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    return app


def _with_route_table(lifespan: Lifespan | None) -> Lifespan:
    """The service's lifespan, then every route built before the first request."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app) if lifespan else nullcontext():
            build_route_table(app)
            yield

    return run
