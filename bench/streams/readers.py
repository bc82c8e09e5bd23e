"""The two ways (c) reads Server-Sent Events, each a call that sends one request and feeds
every event to ``on_event(event, id, receive time)`` until the server ends the stream."""

import itertools
from typing import Any, Protocol

import httpx
from httpx_sse import SSEError

from bench.harness import Pools, timed_events

from .tap import OnEvent, tapped_stream


class EventReader(Protocol):
    name: str

    async def __call__(
        self,
        url: str,
        method: str,
        path: str,
        token: str,
        on_event: OnEvent,
        body: dict[str, Any] | None = None,
    ) -> int: ...

    async def aclose(self) -> None: ...


class TapReader:
    """SseTap on a connection of its own per stream (see bench.streams.tap)."""

    name = "SseTap"

    async def __call__(
        self,
        url: str,
        method: str,
        path: str,
        token: str,
        on_event: OnEvent,
        body: dict[str, Any] | None = None,
    ) -> int:
        return await tapped_stream(url, method, path, token, on_event, body)

    async def aclose(self) -> None:
        return None


class HttpxSseReader:
    """httpx with httpx-sse, over the harness's pools of small clients."""

    name = "httpx-sse"

    def __init__(self) -> None:
        self._pools: dict[str, Pools] = {}
        self._streams = itertools.count()

    async def __call__(
        self,
        url: str,
        method: str,
        path: str,
        token: str,
        on_event: OnEvent,
        body: dict[str, Any] | None = None,
    ) -> int:
        client = self._pools.setdefault(url, Pools(url)).client(next(self._streams))
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with client.stream(method, path, json=body, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                return response.status_code
            async for event, received in timed_events(response):
                on_event(event.event, event.id, received)
        return response.status_code

    async def aclose(self) -> None:
        for pools in self._pools.values():
            await pools.aclose()


READ_ERRORS = (OSError, httpx.HTTPError, SSEError)
