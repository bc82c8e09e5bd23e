"""In-process fan-out of a stream's events to the connections this replica serves."""

import asyncio
from collections import defaultdict

from chat.streaming.events import StreamEvent


class LocalHub:
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
