"""An ASGI response fed by an async producer, stopped when the client disconnects.

The producer yields a ``Head`` (status and headers) and then body chunks. Raising
``DropConnection`` ends the exchange as a failing network does: the response is left
incomplete, so the server closes the connection without the chunked terminator and the client
sees a truncated body instead of a clean end.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_simulator.metrics import RESPONSES_IN_FLIGHT


@dataclass(frozen=True)
class Head:
    status: int
    headers: dict[str, str] = field(default_factory=dict)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(name.lower().encode(), value.encode()) for name, value in self.headers.items()]


class DropConnection(Exception):
    pass


class InterruptibleResponse(Response):
    def __init__(self, producer: AsyncIterator[Head | bytes]) -> None:
        # The status and headers come from the producer's Head; these satisfy FastAPI.
        super().__init__(status_code=200)
        self.producer = producer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        RESPONSES_IN_FLIGHT.inc()
        producing = asyncio.ensure_future(self._produce(send))
        watching = asyncio.ensure_future(_client_gone(receive))
        try:
            await asyncio.wait({producing, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (producing, watching):
                task.cancel()
            await asyncio.gather(producing, watching, return_exceptions=True)
            RESPONSES_IN_FLIGHT.dec()
        if not producing.cancelled() and (failure := producing.exception()) is not None:
            raise failure

    async def _produce(self, send: Send) -> None:
        started = False
        try:
            async for item in self.producer:
                if isinstance(item, Head):
                    await send(
                        {
                            "type": "http.response.start",
                            "status": item.status,
                            "headers": item.raw_headers(),
                        }
                    )
                    started = True
                else:
                    await send({"type": "http.response.body", "body": item, "more_body": True})
        except DropConnection:
            if not started:
                # The server answers 500 to an app that never starts its response; announcing a
                # body that never comes makes the client see a dropped connection instead.
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": b"{", "more_body": True})
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _client_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
