"""Outermost ASGI middleware: request id, access log, metrics, and the last-resort 500."""

import logging
import time

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_kit.metrics import LATENCY, REQUESTS, UNMATCHED_ROUTE
from service_kit.request_context import REQUEST_ID_HEADER, choose_request_id, request_id_var

log = logging.getLogger("service_kit.access")

_INTERNAL_ERROR = orjson.dumps({"message": "Internal server error", "code": "internal_error"})
_QUIET_PATHS = frozenset({"/metrics", "/api/health", "/api/health/ready"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = choose_request_id(sent_id)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if not response_started:
                status = 500
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED_ROUTE
        method = scope["method"]
        REQUESTS.labels(self.service, method, template, str(status)).inc()
        LATENCY.labels(self.service, method, template).observe(elapsed)
        if scope["path"] not in _QUIET_PATHS:
            log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"status": status, "durationMs": round(elapsed * 1000, 2), "route": template},
            )
