"""The services behind the gateway, each with its own HTTP connection pool."""

from dataclasses import dataclass

import httpx

from gateway.config import GatewaySettings

# Below uvicorn's default keep-alive (5 s), so the gateway drops an idle connection before the
# upstream does and never sends a request down a connection the other end is closing.
KEEPALIVE_EXPIRY_SECONDS = 4.0


@dataclass(frozen=True)
class Upstream:
    name: str
    url: httpx.URL
    client: httpx.AsyncClient
    timeout: httpx.Timeout
    optional: bool = False

    def target(self, raw_path: bytes, query_string: bytes) -> httpx.URL:
        """The upstream URL for a request path as the client sent it (percent-encoding kept)."""
        base = self.url.raw_path.rstrip(b"/")
        if query_string:
            return self.url.copy_with(raw_path=base + raw_path + b"?" + query_string)
        return self.url.copy_with(raw_path=base + raw_path)


def open_upstreams(settings: GatewaySettings) -> dict[str, Upstream]:
    timeout = httpx.Timeout(
        connect=settings.upstream_connect_timeout_seconds,
        read=settings.upstream_read_timeout_seconds,
        write=settings.upstream_write_timeout_seconds,
        pool=settings.upstream_pool_timeout_seconds,
    )
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=min(settings.upstream_max_connections, 200),
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    optional = set(settings.optional_upstreams)
    return {
        name: Upstream(
            name=name,
            url=httpx.URL(url),
            # Requests are built by hand (httpx.Request), so the client adds none of its
            # default headers (no Accept-Encoding the real client did not send).
            client=httpx.AsyncClient(
                timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
            ),
            timeout=timeout,
            optional=name in optional,
        )
        for name, url in settings.upstream_urls.items()
    }


async def close_upstreams(upstreams: dict[str, Upstream]) -> None:
    for upstream in upstreams.values():
        await upstream.client.aclose()
