"""The rule itself: ``checked_endpoint`` and what it is made of."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]


class EndpointRefused(ValueError):
    """The URL may not be called; ``reason`` completes a sentence about it ("must use https",
    "resolves to 10.0.0.1, a private, loopback or link-local address")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the event loop's resolver, no blocking)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def checked_endpoint(url: str, *, production: bool, resolver: Resolver = resolve) -> str:
    """The URL without surrounding spaces or a trailing slash; ``EndpointRefused`` when it may
    not be called."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise EndpointRefused("is not a URL") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise EndpointRefused(f"must use {' or '.join(allowed)}")
    if not parts.hostname or parts.username or parts.password:
        raise EndpointRefused("must name a host, without user or password")
    if parts.query or parts.fragment:
        raise EndpointRefused("must have no query or fragment")
    if production:
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await resolver(parts.hostname, port)
        except OSError:
            raise EndpointRefused(f"names a host that does not resolve: {parts.hostname}") from None
        if not addresses:
            raise EndpointRefused(f"names a host that does not resolve: {parts.hostname}")
        for address in addresses:
            if not is_public(address):
                raise EndpointRefused(
                    f"resolves to {address}, a private, loopback or link-local address"
                )
    return url.strip().rstrip("/")


def is_public(address: str) -> bool:
    """A globally routable unicast address (an IPv4-mapped IPv6 address judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
