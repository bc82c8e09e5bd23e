"""The SSE response every stream of this service uses."""

from collections.abc import Awaitable, Callable

from sse_starlette import EventSourceResponse
from starlette.types import Message, Receive, Scope, Send


class StreamResponse(EventSourceResponse):
    """sse-starlette's response without its per-frame cancel scope when no send timeout is
    set: entering and leaving an anyio scope for every chunk was a fair share of a chunk's
    cost. (It overrides a private method: if a new sse-starlette renames it, frames are
    simply sent the library's way again.)

    ``on_close`` runs once the response is over, however it ended: also when the body was
    never iterated (a client gone before the first byte), where the events
    generator's own ``finally`` never runs."""

    def __init__(
        self, *args, on_close: Callable[[], Awaitable[None]] | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
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
