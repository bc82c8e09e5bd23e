"""Forwarding one request to its upstream: limit, credentials, headers, body, errors."""

import logging
import time
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request

from gateway.api_keys.exchange import ApiKeyTokens
from gateway.limits.edge_limit import EdgeRateLimiter, client_key
from gateway.metrics import UPSTREAM_REQUESTS, UPSTREAM_SECONDS
from gateway.proxy.headers import request_headers
from gateway.proxy.response import UpstreamResponse
from gateway.proxy.upstreams import Upstream
from keepalive_http import UpstreamTimeout, UpstreamUnavailable
from service_kit import ApiError

log = logging.getLogger(__name__)


class Proxy:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        limiter: EdgeRateLimiter,
        api_keys: ApiKeyTokens,
        *,
        api_key_prefix: str = "sk-",
    ) -> None:
        self.upstreams = upstreams
        self._limiter = limiter
        self._api_keys = api_keys
        self._api_key_prefix = api_key_prefix

    async def forward(self, request: Request, upstream_name: str) -> UpstreamResponse:
        upstream = self.upstreams[upstream_name]
        await self._limiter.check(client_key(request))
        request_id: str = request.state.request_id
        authorization = await self._authorization(request, request_id)
        scope = request.scope
        target = upstream.raw_target(
            scope.get("raw_path") or scope["path"].encode(), scope["query_string"]
        )
        headers = request_headers(
            request.headers.raw,
            request_id=request_id,
            client_host=request.client.host if request.client else None,
            scheme=scope.get("scheme", "http"),
            authorization=authorization,
        )
        started = time.perf_counter()
        try:
            reply = await upstream.pool.send(request.method, target, headers, _body(request))
        except UpstreamTimeout as exc:
            UPSTREAM_REQUESTS.labels(upstream.name, "timeout").inc()
            log.warning("upstream timed out", extra={"upstream": upstream.name, "error": repr(exc)})
            raise ApiError(
                504,
                "upstream_timeout",
                f"The {upstream.name} service did not answer in time",
                details={"upstream": upstream.name},
            ) from None
        except UpstreamUnavailable as exc:
            raise _unavailable(upstream, exc) from None
        except ClientDisconnect:
            # The client went away while sending its body: nobody is left to answer.
            log.info("client disconnected mid-request", extra={"upstream": upstream.name})
            raise ApiError(400, "client_disconnected", "The client closed the request") from None
        UPSTREAM_SECONDS.labels(upstream.name).observe(time.perf_counter() - started)
        UPSTREAM_REQUESTS.labels(upstream.name, str(reply.status)).inc()
        return UpstreamResponse(upstream.name, reply)

    async def _authorization(self, request: Request, request_id: str) -> str | None:
        """``Bearer <jwt>`` to forward instead of an API key; None to forward as sent."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials.startswith(self._api_key_prefix):
            return None
        return f"Bearer {await self._api_keys.token_for(credentials, request_id)}"


def _unavailable(upstream: Upstream, exc: Exception) -> ApiError:
    UPSTREAM_REQUESTS.labels(upstream.name, "unavailable").inc()
    log.warning("upstream unavailable", extra={"upstream": upstream.name, "error": repr(exc)})
    return ApiError(
        502,
        "upstream_unavailable",
        f"The {upstream.name} service is unavailable",
        details={"upstream": upstream.name},
    )


def _body(request: Request) -> AsyncIterator[bytes] | bytes | None:
    """The request body as a stream (never read whole); None when the request has none."""
    headers = request.headers
    if "transfer-encoding" in headers:
        return request.stream()
    length = headers.get("content-length")
    if length is None:
        return None
    if length.strip() == "0":
        return b""
    return request.stream()
