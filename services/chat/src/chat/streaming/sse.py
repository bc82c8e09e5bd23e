"""The SSE response every stream of this service uses: sse-starlette's, with a clean-up hook
and without a cancel scope per frame.

``on_close`` runs once the response is over, however it ended: also when the body was never
iterated (a client gone before the first byte), where the events generator's own ``finally``
never runs.

sse-starlette sends every frame through its private ``_send_with_timeout``, which enters
``anyio.move_on_after(send_timeout)`` even when no send timeout is set (a few microseconds a
frame, a fair share of a chunk's cost) and offers no public way to send without it. Overriding
that method is this service's only reach into sse-starlette's internals, and it is kept here:
``WRITTEN_FOR`` is the range of sse-starlette versions it was written and tested for, and
``tests/streaming/test_sse.py`` fails on any other version, so an upgrade is looked at before
it is taken.
"""

from collections.abc import Awaitable, Callable, Mapping

from sse_starlette import EventSourceResponse
from sse_starlette.sse import ContentStream
from starlette.types import Message, Receive, Scope, Send

# sse-starlette versions the override of ``_send_with_timeout`` was written for: >= 3.7, < 3.8.
WRITTEN_FOR = ((3, 7), (3, 8))


class StreamResponse(EventSourceResponse):
    def __init__(
        self,
        content: ContentStream,
        *,
        on_close: Callable[[], Awaitable[None]] | None = None,
        ping: float | None = None,
        headers: Mapping[str, str] | None = None,
        send_timeout: float | None = None,
    ) -> None:
        super().__init__(content, headers=headers, ping=ping, send_timeout=send_timeout)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._on_close is not None:
                await self._on_close()

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)
