"""A lean keep-alive HTTP/1.1 client (see ``pool``)."""

from keepalive_http.pool import (
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
    "RawHeaders",
    "Timeouts",
    "UpstreamBodyError",
    "UpstreamError",
    "UpstreamPool",
    "UpstreamReply",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]
