"""One route per prefix of ROUTES: the prefix itself and everything below it."""

from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from gateway.proxy.service import Proxy

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class ProxyRoute(Route):
    """A plain Starlette route (so not in the OpenAPI schema) that names itself in the scope,
    where the service kit's metrics read the route template (``/api/chat/{path:path}``).
    ``prefix`` is the configured prefix it serves (itself, or everything below it), for
    ``upstream``."""

    def __init__(self, prefix: str, path: str, upstream: str) -> None:
        super().__init__(
            path, partial(forward, upstream=upstream), methods=METHODS, name=f"proxy:{upstream}"
        )
        self.prefix = prefix
        self.upstream = upstream

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            child_scope["route"] = self
        return match, child_scope


async def forward(request: Request, *, upstream: str) -> Response:
    proxy: Proxy = request.app.state.proxy
    return await proxy.forward(request, upstream)


def proxy_routes(routes: dict[str, str]) -> list[Route]:
    """Longest prefix first, so a configured /api/chat/x can go elsewhere than /api/chat."""
    found: list[Route] = []
    for prefix, upstream in sorted(routes.items(), key=lambda item: -len(item[0])):
        found.append(ProxyRoute(prefix, prefix, upstream))
        found.append(ProxyRoute(prefix, prefix + "/{path:path}", upstream))
    return found
