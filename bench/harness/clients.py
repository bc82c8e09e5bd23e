"""httpx clients for the benches: one per service for setup, pools of small ones for streams."""

import asyncio
import ssl

import httpx

STREAMS_PER_CLIENT = 16  # see Pools

CLIENT_LIMITS = httpx.Limits(
    max_connections=None, max_keepalive_connections=STREAMS_PER_CLIENT * 2, keepalive_expiry=4
)
CLIENT_TIMEOUT = httpx.Timeout(connect=15, read=40, write=15, pool=None)
TLS = ssl.create_default_context()  # never used (http://), but httpx builds one per client


def new_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, limits=CLIENT_LIMITS, timeout=CLIENT_TIMEOUT, verify=TLS
    )


class Pools:
    """Many small httpx clients, one per STREAMS_PER_CLIENT streams.

    httpcore's connection pool walks every connection of the pool for every request it
    queues or releases (and asks each socket whether it has expired): with one pool of 200
    connections a burst spends seconds in that bookkeeping before sending anything, which
    would be measured as the server's latency.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._clients: list[httpx.AsyncClient] = []

    def client(self, stream: int) -> httpx.AsyncClient:
        index = stream // STREAMS_PER_CLIENT
        while len(self._clients) <= index:
            self._clients.append(new_client(self._base_url))
        return self._clients[index]

    async def warm(self, streams: int) -> None:
        """Open the connections a burst of ``streams`` will use (not TCP handshakes measured)."""
        await asyncio.gather(
            *(self.client(i).get("/api/health") for i in range(streams)), return_exceptions=True
        )

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
