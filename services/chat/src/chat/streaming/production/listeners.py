"""The connections this replica serves that follow an answer produced here: each has a queue
of the hub (``Dependencies.hub``, by stream id) that the producer feeds in the same turn of
the event loop as it makes the event."""

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from chat.fanout import FanOut
from chat.streaming.events import StreamEvent


class _Request(Protocol):
    @property
    def streaming_session_id(self) -> str: ...


class Followed(Protocol):
    """What a Following needs of the answer it follows."""

    @property
    def request(self) -> _Request: ...

    def detach(self) -> None:
        """One connection fewer follows it (with none left, it stops after a grace period)."""


class Following:
    """A connection's hold on an answer it started: iterate it for the events; it lets go of
    the answer when the iteration ends or ``aclose`` is called (for a response whose body
    may never be iterated), whichever comes first."""

    def __init__(
        self, hub: FanOut[StreamEvent], producer: Followed, queue: asyncio.Queue[StreamEvent]
    ) -> None:
        self._hub = hub
        self._producer = producer
        self._queue = queue
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        try:
            while True:
                event = await self._queue.get()
                yield event
                if event.is_terminal:
                    return
        finally:
            self._close()

    async def aclose(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.unsubscribe(self._producer.request.streaming_session_id, self._queue)
        self._producer.detach()
