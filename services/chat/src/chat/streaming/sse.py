"""The SSE response every stream of this service uses."""

from sse_starlette import EventSourceResponse
from starlette.types import Message, Send


class StreamResponse(EventSourceResponse):
    """sse-starlette's response without its per-frame cancel scope when no send timeout is
    set: entering and leaving an anyio scope for every chunk was a fair share of a chunk's
    cost. (It overrides a private method: if a new sse-starlette renames it, frames are
    simply sent the library's way again.)"""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)
