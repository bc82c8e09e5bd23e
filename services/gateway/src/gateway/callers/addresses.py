"""The client's address: the connection's peer, or what a trusted proxy says it is."""

import functools
import ipaddress
from collections.abc import Iterable, Sequence

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"
# Parsed addresses remembered: the same few peers (the Ingress, the load balancer) ask again and
# again, and parsing one is most of the cost of deciding who the client is.
PARSED_ADDRESSES = 4096


@functools.lru_cache(maxsize=PARSED_ADDRESSES)
def _ip(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


class TrustedProxies:
    """The proxies (TRUSTED_PROXIES) whose X-Forwarded-For the gateway believes; nobody's when
    there are none. Each proxy appends the address it got the request from, so of the list only
    the entries right of the last untrusted one are proxies' word; the rest the client wrote."""

    def __init__(self, networks: Sequence[IpNetwork]) -> None:
        self._networks = tuple(networks)

    def trusts(self, host: str | None) -> bool:
        if not self._networks or not host:
            return False
        address = _ip(host)
        return address is not None and self._trusted(address)

    def client_address(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The peer's address; when the peer is a trusted proxy, the right-most address of
        X-Forwarded-For (all its headers, in order) that is not a trusted proxy. An entry that is
        no address ends the walk: the client is then the proxy that passed it on."""
        address = _ip(peer) if peer else None
        if address is None:
            return peer or UNKNOWN
        if not self._networks or not self._trusted(address):
            return str(address)
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            parsed = _ip(hop)
            if parsed is None:
                break
            address = parsed
            if not self._trusted(address):
                break
        return str(address)

    def _trusted(self, address: IpAddress) -> bool:
        return any(address in network for network in self._networks)
