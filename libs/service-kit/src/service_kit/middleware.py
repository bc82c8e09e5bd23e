"""Outermost ASGI middleware: request id, access log, metrics, and the last-resort 500."""

import logging
import time

import orjson
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_kit.metrics import LATENCY, REQUESTS, UNMATCHED_ROUTE
from service_kit.request_context import REQUEST_ID_HEADER, choose_request_id, request_id_var

log = logging.getLogger("service_kit.access")

_INTERNAL_ERROR = orjson.dumps({"message": "Internal server error", "code": "internal_error"})
_QUIET_PATHS = frozenset({"/metrics", "/api/health", "/api/health/ready"})


_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode("latin-1")
# Label sets seen: the children of the metrics, looked up once (``labels()`` validates and
# locks on every call). Bounded by the routes' templates times methods and statuses.
_Series = tuple[Counter, Histogram]


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._series: dict[tuple[str, str, int], _Series] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = None
        for name, value in scope["headers"]:  # the first X-Request-ID, as Headers.get reads it
            if name == _REQUEST_ID_KEY:
                sent_id = value.decode("latin-1")
                break
        request_id = choose_request_id(sent_id)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        id_header = (_REQUEST_ID_KEY, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append(id_header)
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
        key = (method, template, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                REQUESTS.labels(self.service, method, template, str(status)),
                LATENCY.labels(self.service, method, template),
            )
        series[0].inc()
        series[1].observe(elapsed)
        if scope["path"] not in _QUIET_PATHS and log.isEnabledFor(logging.INFO):
            # The record made and handled as Logger.info would, without first walking the
            # stack for the caller's file and line (no line of ours shows them): about half
            # of the cost of the access line every request writes.
            extra = {"status": status, "durationMs": round(elapsed * 1000, 2), "route": template}
            args = (method, scope["path"], status)
            record = log.makeRecord(
                log.name, logging.INFO, __file__, 0, "%s %s %s", args, None, "_observe", extra
            )
            log.handle(record)
