"""One catch-all route after the proxy's: a file of the build, else index.html for a client
route (/chat/abc). Paths of the API (/api, /v1, ...) never match it, so they keep their 404
(or 405) in the error envelope, and a missing hashed asset is a 404, not the page."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from gateway.console.files import HASHED_DIR, INDEX, ConsoleFile

# No inline script or style, nothing from another origin; the API is the same origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Paths the console never answers: the API's, and the gateway's own.
RESERVED_PREFIXES = ("/api", "/v1", "/internal", "/docs", "/redoc", "/openapi.json", "/metrics")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class ConsoleRoute(Route):
    def __init__(self, files: dict[str, ConsoleFile], reserved: tuple[str, ...]) -> None:
        super().__init__("/{path:path}", self.serve, methods=["GET", "HEAD"], name="console")
        self.files = files
        self.reserved = reserved

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and any(_under(scope["path"], p) for p in self.reserved):
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            child_scope["route"] = self  # the metrics' route template
        return match, child_scope

    def _find(self, path: str) -> ConsoleFile:
        relative = path.lstrip("/")
        found = self.files.get(relative or INDEX)
        if found is not None:
            return found
        if relative.startswith(HASHED_DIR):
            raise HTTPException(404)
        return self.files[INDEX]

    async def serve(self, request: Request) -> Response:
        file = self._find(request.url.path)
        headers = {**SECURITY_HEADERS, "Cache-Control": file.cache_control, "ETag": file.etag}
        if file.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(file.body, media_type=file.media_type, headers=headers)


def console_route(files: dict[str, ConsoleFile], routes: dict[str, str]) -> ConsoleRoute:
    return ConsoleRoute(files, (*RESERVED_PREFIXES, *routes))
