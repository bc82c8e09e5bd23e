"""CORS from configuration (CORS_ORIGINS), answered inside the request-id middleware."""

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from service_kit.errors import error_response

ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Beyond the CORS-safelisted ones (Accept, Content-Type...): bearer tokens, our request id,
# and Last-Event-ID for resuming an SSE stream.
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "Last-Event-ID",
    "Idempotency-Key",
]
EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the platform's error envelope.

    A request without ``Origin`` (not from a browser's cross-origin call: most of the API's)
    is neither a preflight nor given any ``Access-Control-*`` header: all Starlette does to its
    response is add ``Origin`` to ``Vary``, which ``_vary_origin`` does here without building
    the request's and the response's header objects (``tests/proxy/test_direct.py`` compares
    both).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _vary_origin(message.setdefault("headers", []))
            await send(message)

        await self.app(scope, receive, send_varying)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        message = bytes(response.body).decode() or "CORS request refused"
        return error_response(response.status_code, "cors_rejected", message, headers=headers)


def _vary_origin(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Origin`` added to ``Vary`` as Starlette's ``MutableHeaders`` sets it:
    every ``Vary`` joined into the first one, the others dropped, else one at the end."""
    out = list(headers)
    found = [index for index, (name, _) in enumerate(out) if name == b"vary"]
    value = b", ".join([*(out[index][1] for index in found), b"Origin"])
    for index in reversed(found[1:]):
        del out[index]
    if found:
        out[found[0]] = (b"vary", value)
    else:
        out.append((b"vary", value))
    return out


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Nothing when no origin is allowed: browsers then refuse cross-origin calls themselves.

    Appended to the app's middleware, so it runs inside the service kit's request-id
    middleware and preflight answers carry an X-Request-ID too.
    """
    if not origins:
        return
    app.user_middleware.append(
        Middleware(
            EnvelopeCORSMiddleware,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            # Bearer tokens travel in a header, never in cookies.
            allow_credentials=False,
            max_age=600,
        )
    )
