"""Forwarding one request to its upstream: body framing, caller, limit, credentials, headers,
body, errors."""

import logging
import time
from collections.abc import AsyncIterator

from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect, Request

from gateway.api_keys.exchange import ApiKeyTokens
from gateway.callers.addresses import TrustedProxies
from gateway.callers.identity import Callers
from gateway.limits.edge_limit import EdgeRateLimiter
from gateway.metrics import UPSTREAM_REQUESTS, UPSTREAM_SECONDS
from gateway.proxy.headers import request_headers
from gateway.proxy.response import UpstreamResponse
from gateway.proxy.upstreams import Upstream
from service_client import UpstreamTimeout, UpstreamUnavailable
from service_kit import ApiError

log = logging.getLogger(__name__)


class Proxy:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        limiter: EdgeRateLimiter,
        api_keys: ApiKeyTokens,
        callers: Callers,
        *,
        trusted_proxies: TrustedProxies | None = None,
        max_body_bytes: int = 1_048_576,
        api_key_prefix: str = "sk-",
    ) -> None:
        self.upstreams = upstreams
        self._limiter = limiter
        self._api_keys = api_keys
        self._callers = callers
        self._proxies = trusted_proxies or TrustedProxies([])
        self._max_body_bytes = max_body_bytes
        self._api_key_prefix = api_key_prefix
        self._series: dict[tuple[str, int], tuple[Histogram, Counter]] = {}

    async def forward(self, request: Request, upstream_name: str) -> UpstreamResponse:
        upstream = self.upstreams[upstream_name]
        body = _body(request, self._max_body_bytes)
        request_id: str = request.state.request_id
        peer = request.client.host if request.client else None
        client = self._proxies.client_address(peer, request.headers.getlist("x-forwarded-for"))
        token, authorization = await self._credentials(request, client, request_id)
        caller = await self._callers.identify(token, client)
        await self._limiter.check(caller.bucket, caller.requests_per_minute)
        scope = request.scope
        target = upstream.raw_target(
            scope.get("raw_path") or scope["path"].encode(), scope["query_string"]
        )
        headers = request_headers(
            request.headers.raw,
            request_id=request_id,
            client_host=client,
            scheme=scope.get("scheme", "http"),
            authorization=authorization,
            from_trusted_proxy=self._proxies.trusts(peer),
        )
        started = time.perf_counter()
        try:
            reply = await upstream.pool.send(request.method, target, headers, body)
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
        key = (upstream.name, reply.status)
        series = self._series.get(key)
        if series is None:  # labels() validates and locks: looked up once per label set
            series = self._series[key] = (
                UPSTREAM_SECONDS.labels(upstream.name),
                UPSTREAM_REQUESTS.labels(upstream.name, str(reply.status)),
            )
        series[0].observe(time.perf_counter() - started)
        series[1].inc()
        return UpstreamResponse(upstream.name, reply)

    async def _credentials(
        self, request: Request, client: str, request_id: str
    ) -> tuple[str | None, str | None]:
        """(the bearer token that says who is asking, ``Bearer <jwt>`` to forward instead of
        an API key, None to forward the Authorization as sent)."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            return None, None
        if not credentials.startswith(self._api_key_prefix):
            return credentials, None
        token = await self._api_keys.token_for(credentials, request_id, client=client)
        return token, f"Bearer {token}"


def _unavailable(upstream: Upstream, exc: Exception) -> ApiError:
    UPSTREAM_REQUESTS.labels(upstream.name, "unavailable").inc()
    log.warning("upstream unavailable", extra={"upstream": upstream.name, "error": repr(exc)})
    return ApiError(
        502,
        "upstream_unavailable",
        f"The {upstream.name} service is unavailable",
        details={"upstream": upstream.name},
    )


def _body(request: Request, max_bytes: int) -> AsyncIterator[bytes] | bytes | None:
    """The request body as a stream (never read whole), cut off past ``max_bytes``; None when
    the request has none. Refused before anything is read: both Transfer-Encoding and
    Content-Length (a request smuggling vector, RFC 9112 section 6.3), or a Content-Length over
    the limit."""
    chunked = False
    length: str | None = None
    for name, value in request.scope["headers"]:  # one pass; Headers.get raises when absent
        if name == b"transfer-encoding":
            chunked = True
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    if chunked and length is not None:
        raise ApiError(
            400,
            "bad_request",
            "A request may not carry both Transfer-Encoding and Content-Length",
        )
    if length is not None:
        length = length.strip()
        if not (length.isascii() and length.isdigit()):
            raise ApiError(400, "bad_request", "Content-Length is not a number")
        if int(length) > max_bytes:
            raise _too_large(max_bytes)
        if int(length) == 0:
            return b""
    elif not chunked:
        return None
    return _capped(request.stream(), max_bytes)


async def _capped(stream: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    # Raised while the upstream request is being written: the pool then drops that connection,
    # so the upstream sees an unfinished request, and the client gets the 413.
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        yield chunk


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The request body is larger than {max_bytes} bytes")
