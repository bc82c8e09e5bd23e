"""The gateway's app: a proxied request goes straight to its route, past FastAPI's own layers.

Almost every request the gateway serves is proxied, and on its way to the proxy route it used
to cross FastAPI's app layers (telemetry, its server-error and body-size middleware, the
AsyncExitStack) and the router, which tries the gateway's own routes (health, metrics, docs)
and every longer prefix first: 13-15% of the gateway's CPU per proxied request (py-spy on
``bench/gateway.py``). ``GatewayApp`` finds the proxy route itself, by its prefix,
and runs it inside the same middleware the app has (``user_middleware``: the service kit's
request context and body limit, CORS) and Starlette's ``ExceptionMiddleware`` with the app's
exception handlers, as the app would: same route in the scope (metrics), same envelope for
errors, same headers. Everything else (the gateway's own routes, the console, a method the
proxy does not route, a prefix one of the gateway's own paths lies under, an app with a
``root_path`` or FastAPI's ``max_body_size``) goes through FastAPI as before. FastAPI's
native telemetry does not see proxied requests; the platform configures none.
"""

from fastapi.routing import iter_route_contexts
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.proxy.router import ProxyRoute, forward
from service_kit import DocumentedApp


class DirectRoutes:
    """The proxy routes by prefix, longest first (the router's order), without the prefixes
    one of the gateway's own routes lies under."""

    def __init__(self, routes: list[ProxyRoute], own_paths: list[str]) -> None:
        by_prefix: dict[str, list[ProxyRoute]] = {}
        for route in routes:
            by_prefix.setdefault(route.prefix, []).append(route)
        self._prefixes = [
            (prefix, prefix + "/", found)
            for prefix, found in sorted(by_prefix.items(), key=lambda item: -len(item[0]))
            if not any(_overlap(path, prefix) for path in own_paths)
        ]

    def match(self, scope: Scope) -> Scope | None:
        """The child scope of the proxy route that matches ``scope`` fully, else None."""
        path: str = scope["path"]
        for prefix, below, routes in self._prefixes:
            if path == prefix or path.startswith(below):
                for route in routes:
                    match, child = route.matches(scope)
                    if match is Match.FULL:
                        return child
                return None
        return None


def _overlap(own: str, prefix: str) -> bool:
    """Whether a request under ``prefix`` might match the gateway's own route ``own`` (a path,
    or a mount's prefix): said yes whenever unsure, which only costs the direct path."""
    literal, parameter, _ = own.partition("{")
    if parameter:  # from the parameter on, it may match anything
        return (prefix + "/").startswith(literal) or literal.startswith(prefix)
    return own == prefix or own.startswith(prefix + "/") or prefix.startswith(own + "/")


class GatewayApp(DocumentedApp):
    _direct: tuple[DirectRoutes, ASGIApp] | None = None
    _direct_built = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path") and not self.root_path:
            if not self._direct_built:
                self._direct = self._build_direct()
                self._direct_built = True
            if self._direct is not None:
                routes, stack = self._direct
                child = routes.match(scope)
                if child is not None:
                    scope["app"] = self
                    scope.setdefault("router", self.router)
                    scope.update(child)
                    await stack(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)

    def _build_direct(self) -> tuple[DirectRoutes, ASGIApp] | None:
        """Built on the first request, when the routes and middleware are final (None: the
        app has FastAPI's own body size limit, which only its own layers apply)."""
        if self.max_body_size is not None:
            return None
        proxy_routes: list[ProxyRoute] = []
        own_paths: list[str] = []
        for context in iter_route_contexts(self.router.routes):
            route = context.original_route
            if isinstance(route, ProxyRoute):
                proxy_routes.append(route)
            elif not proxy_routes:  # routes after the proxy's never shadow them
                if context.path is None:
                    return None  # a route matched by something else than its path
                own_paths.append(context.path)
        handlers = {
            key: handler
            for key, handler in self.exception_handlers.items()
            if key not in (500, Exception)  # ServerErrorMiddleware's, as FastAPI splits them
        }
        app: ASGIApp = ExceptionMiddleware(_handle, handlers=handlers, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return DirectRoutes(proxy_routes, own_paths), app


async def _handle(scope: Scope, receive: Receive, send: Send) -> None:
    """The route's endpoint, as ``request_response`` runs it (the exception middleware above
    answers what it raises with the app's handlers, as the route's own wrapper would)."""
    route: ProxyRoute = scope["route"]
    request = Request(scope, receive, send)
    response = await forward(request, upstream=route.upstream)
    await response(scope, receive, send)
