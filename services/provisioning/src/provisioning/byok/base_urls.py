"""Which ``baseUrl`` an OpenAI-compatible credential may point at.

It is called from the provider (validate) and from chat, inside the platform's network: so in
production only https, and never a host that resolves to a private, loopback, link-local or
otherwise non-public address (cloud metadata, the platform's own services). Outside production
http and local addresses are allowed (the model simulator on 127.0.0.1). The host is resolved
at storing and again before each validation; a name re-pointed in between is the DNS
rebinding this cannot rule out by itself (egress rules should back it up).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from service_kit import ApiError

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the event loop's resolver, no blocking)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def invalid_base_url(reason: str) -> ApiError:
    return ApiError(422, "invalid_base_url", f"baseUrl {reason}")


async def checked_base_url(url: str, *, production: bool, resolver: Resolver = resolve) -> str:
    """The URL without a trailing slash; 422 ``invalid_base_url`` when it may not be used."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise invalid_base_url("is not a URL") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise invalid_base_url(f"must use {' or '.join(allowed)}")
    if not parts.hostname or parts.username or parts.password:
        raise invalid_base_url("must name a host, without user or password")
    if parts.query or parts.fragment:
        raise invalid_base_url("must have no query or fragment")
    if production:
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await resolver(parts.hostname, port)
        except OSError:
            raise invalid_base_url(
                f"names a host that does not resolve: {parts.hostname}"
            ) from None
        if not addresses:
            raise invalid_base_url(f"names a host that does not resolve: {parts.hostname}")
        for address in addresses:
            if not _public(address):
                raise invalid_base_url(
                    f"resolves to {address}, a private, loopback or link-local address"
                )
    return url.strip().rstrip("/")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
