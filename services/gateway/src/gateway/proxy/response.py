"""An upstream's response relayed to the client piece by piece, as the upstream sends it."""

import asyncio
import logging

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from gateway.proxy.headers import response_headers
from service_client import UpstreamBodyError, UpstreamReply

log = logging.getLogger(__name__)


class UpstreamResponse(Response):
    """An ASGI response relaying ``reply``'s body as it arrives: never decoded or re-buffered,
    so SSE passes through unbuffered and compressed bodies keep their Content-Encoding/-Length.
    (A ``Response`` that sets its own attributes, as Starlette's ``StreamingResponse`` does.)

    The upstream connection is released however this ends: the last byte (back to the pool),
    an error, or the client going away (its ``http.disconnect`` stops the relay at once, as
    Starlette's StreamingResponse does). A half-read response closes its connection, so the
    upstream sees the disconnect too.

    An answer that has arrived whole by the time its head is read (most small JSON answers) is
    relayed in one body message: nothing to wait for, so nothing is held back.
    """

    def __init__(self, upstream_name: str, reply: UpstreamReply) -> None:
        self.status_code = reply.status
        self.raw_headers = response_headers(reply.headers)
        self.upstream_name = upstream_name
        self.reply = reply
        self.background = None
        if reply.complete:
            reply.close()  # nothing more to read: the connection can serve another request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.reply.received:
                # Nothing left to wait for from the upstream (a small answer arrives whole
                # with its head): no disconnect watch needed (the server drops what is sent
                # after a disconnect), and the body goes in one message.
                await self._relay_received(send)
            else:
                await self._relay_watching(receive, send)
        finally:
            self.reply.close()

    async def _relay_watching(self, receive: Receive, send: Send) -> None:
        relay = asyncio.current_task()
        assert relay is not None
        disconnected = False

        async def watch() -> None:
            nonlocal disconnected
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    relay.cancel()
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            await self._relay(send)
        except asyncio.CancelledError:
            # Our own cancellation (the client left) ends the response quietly; any other
            # (the server shutting down) goes on.
            if disconnected and relay.uncancel() == 0:
                return
            raise
        finally:
            watcher.cancel()

    async def _relay_received(self, send: Send) -> None:
        reply = self.reply
        pieces: list[bytes] = []
        try:
            while chunk := await reply.read():  # waits for nothing: all of it is here
                pieces.append(chunk)
        except UpstreamBodyError as exc:
            await self._start(send)
            for piece in pieces:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            self._broke_off(exc)
            return
        await self._start(send)
        await send({"type": "http.response.body", "body": b"".join(pieces), "more_body": False})

    async def _start(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )

    def _broke_off(self, exc: UpstreamBodyError) -> None:
        # The status line is gone already: all that is left is to end the response without
        # its terminating chunk, so the server drops the connection and the client sees a
        # truncated body rather than a clean end.
        log.warning(
            "upstream response broke off",
            extra={"upstream": self.upstream_name, "error": str(exc)},
        )

    async def _relay(self, send: Send) -> None:
        await self._start(send)
        reply = self.reply
        try:
            while chunk := await reply.read():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamBodyError as exc:
            self._broke_off(exc)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
