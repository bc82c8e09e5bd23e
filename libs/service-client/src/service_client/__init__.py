"""How a platform service calls another (see ``client``), over keep-alive HTTP/1.1 connection
pools on aiohttp (see ``upstream``; the gateway proxies through them too)."""

from service_client.client import PeerReply, ServiceClient, peer_unavailable
from service_client.credentials import ServiceCredentialsSettings
from service_client.tokens import ServiceTokenError, ServiceTokens, TokenSource
from service_client.upstream import (
    KEEPALIVE_EXPIRY_SECONDS,
    FetchedReply,
    RawHeaders,
    Timeouts,
    UpstreamBodyError,
    UpstreamError,
    UpstreamPool,
    UpstreamReply,
    UpstreamTimeout,
    UpstreamUnavailable,
)

__all__ = [
    "KEEPALIVE_EXPIRY_SECONDS",
    "FetchedReply",
    "PeerReply",
    "RawHeaders",
    "ServiceClient",
    "ServiceCredentialsSettings",
    "ServiceTokenError",
    "ServiceTokens",
    "Timeouts",
    "TokenSource",
    "UpstreamBodyError",
    "UpstreamError",
    "UpstreamPool",
    "UpstreamReply",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "peer_unavailable",
]
