"""CORS from configuration (CORS_ORIGINS), answered inside the request-id middleware."""

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

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
    """Starlette's CORS, with a refused preflight answered in the platform's error envelope."""

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
