"""The services behind the gateway, each with its own HTTP connection pool.

Proxied requests go through ``pool`` (``keepalive_http``, lean, for the hot path); the
readiness probes through ``client`` (httpx, a handful of connections).
"""

from dataclasses import dataclass

import httpx

from gateway.config import GatewaySettings
from keepalive_http import KEEPALIVE_EXPIRY_SECONDS, Timeouts, UpstreamPool


@dataclass(frozen=True)
class Upstream:
    name: str
    url: httpx.URL
    client: httpx.AsyncClient
    timeout: httpx.Timeout
    pool: UpstreamPool
    optional: bool = False

    def target(self, raw_path: bytes, query_string: bytes) -> httpx.URL:
        """The upstream URL for a request path as the client sent it (percent-encoding kept)."""
        base = self.url.raw_path.rstrip(b"/")
        if query_string:
            return self.url.copy_with(raw_path=base + raw_path + b"?" + query_string)
        return self.url.copy_with(raw_path=base + raw_path)

    def raw_target(self, raw_path: bytes, query_string: bytes) -> bytes:
        """The request target (path and query) ``target`` would give, as bytes."""
        base = self.url.raw_path.rstrip(b"/")
        if query_string:
            return b"%b%b?%b" % (base, raw_path, query_string)
        return base + raw_path


def open_upstreams(settings: GatewaySettings) -> dict[str, Upstream]:
    timeout = httpx.Timeout(
        connect=settings.upstream_connect_timeout_seconds,
        read=settings.upstream_read_timeout_seconds,
        write=settings.upstream_write_timeout_seconds,
        pool=settings.upstream_pool_timeout_seconds,
    )
    timeouts = Timeouts(
        connect=settings.upstream_connect_timeout_seconds,
        read=settings.upstream_read_timeout_seconds,
        write=settings.upstream_write_timeout_seconds,
        pool=settings.upstream_pool_timeout_seconds,
    )
    max_keepalive = min(settings.upstream_max_connections, 200)
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=max_keepalive,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    optional = set(settings.optional_upstreams)
    return {
        name: Upstream(
            name=name,
            url=httpx.URL(url),
            client=httpx.AsyncClient(
                timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
            ),
            timeout=timeout,
            # Adds no header of its own but Host and the body framing (no Accept-Encoding
            # the real client did not send).
            pool=UpstreamPool(
                url,
                timeouts,
                max_connections=settings.upstream_max_connections,
                max_keepalive_connections=max_keepalive,
                keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
            ),
            optional=name in optional,
        )
        for name, url in settings.upstream_urls.items()
    }


async def close_upstreams(upstreams: dict[str, Upstream]) -> None:
    for upstream in upstreams.values():
        await upstream.pool.aclose()
        await upstream.client.aclose()
