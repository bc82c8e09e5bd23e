"""The connections this replica serves that follow an answer produced here: each has a queue
the producer feeds in the same turn of the event loop as it makes the event."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

from chat.streaming.events import StreamEvent


class LocalHub:
    """In-process fan-out of a stream's events to the connections that follow it."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[StreamEvent]]] = defaultdict(set)

    def subscribe(self, stream_id: str) -> asyncio.Queue[StreamEvent]:
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
        self._subscribers[stream_id].add(queue)
        return queue

    def unsubscribe(self, stream_id: str, queue: asyncio.Queue[StreamEvent]) -> None:
        subscribers = self._subscribers.get(stream_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[stream_id]

    def publish(self, event: StreamEvent) -> None:
        for queue in self._subscribers.get(event.stream_id, ()):
            queue.put_nowait(event)

    def listeners(self, stream_id: str) -> int:
        return len(self._subscribers.get(stream_id, ()))


class _Request(Protocol):
    @property
    def stream_id(self) -> str: ...


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
        self, hub: LocalHub, producer: Followed, queue: asyncio.Queue[StreamEvent]
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
        self._hub.unsubscribe(self._producer.request.stream_id, self._queue)
        self._producer.detach()
