"""The services behind the gateway, each with two HTTP connection pools of its own
(``service_client.upstream``): ``pool`` for proxied requests, ``probe`` (two connections) for
the readiness checks, so a probe never queues behind a full pool of open streams."""

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from gateway.config import GatewaySettings
from service_client import Timeouts, UpstreamPool

PROBE_CONNECTIONS = 2


@dataclass(frozen=True)
class Upstream:
    name: str
    url: str
    pool: UpstreamPool
    probe: UpstreamPool
    optional: bool = False

    @cached_property
    def base_path(self) -> bytes:
        """The path of the upstream's URL, which every target starts with."""
        return urlsplit(self.url).path.encode("latin-1").rstrip(b"/")

    def raw_target(self, raw_path: bytes, query_string: bytes) -> bytes:
        """The request target: the upstream URL's path, then the path and query as the client
        sent them (percent-encoding kept)."""
        base = self.base_path
        if query_string:
            return b"%b%b?%b" % (base, raw_path, query_string)
        return base + raw_path


def open_upstreams(settings: GatewaySettings) -> dict[str, Upstream]:
    timeouts = Timeouts(
        connect=settings.upstream_connect_timeout_seconds,
        read=settings.upstream_read_timeout_seconds,
        write=settings.upstream_write_timeout_seconds,
        pool=settings.upstream_pool_timeout_seconds,
    )
    probe_timeout = settings.readiness_timeout_seconds
    probe_timeouts = Timeouts(
        connect=probe_timeout, read=probe_timeout, write=probe_timeout, pool=probe_timeout
    )
    optional = set(settings.optional_upstreams)
    return {
        name: Upstream(
            name=name,
            url=url,
            pool=UpstreamPool(url, timeouts, max_connections=settings.upstream_max_connections),
            probe=UpstreamPool(url, probe_timeouts, max_connections=PROBE_CONNECTIONS),
            optional=name in optional,
        )
        for name, url in settings.upstream_urls.items()
    }


async def close_upstreams(upstreams: dict[str, Upstream]) -> None:
    for upstream in upstreams.values():
        await upstream.pool.aclose()
        await upstream.probe.aclose()
