"""An upstream's response relayed to the client piece by piece, as the upstream sends it."""

import logging

import anyio
import httpx
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.proxy.headers import response_headers

log = logging.getLogger(__name__)


class UpstreamResponse(StreamingResponse):
    """Streams ``aiter_raw()``: bytes as they arrive, never decoded or re-buffered, so SSE
    passes through unbuffered and compressed bodies keep their Content-Encoding/-Length.

    The upstream response is closed however this ends: the last byte, an error, or the client
    going away (Starlette cancels the stream on ``http.disconnect``). Closing a half-read
    response closes its connection, so the upstream sees the disconnect too.
    """

    def __init__(self, upstream_name: str, upstream: httpx.Response) -> None:
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self.raw_headers = response_headers(upstream.headers.raw)
        self.upstream_name = upstream_name
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: when the client disconnected, this runs inside a cancelled scope.
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TransportError as exc:
            # The status line is gone already: all that is left is to end the response
            # without its terminating chunk, so the server drops the connection and the
            # client sees a truncated body rather than a clean end.
            log.warning(
                "upstream response broke off",
                extra={"upstream": self.upstream_name, "error": repr(exc)},
            )
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
