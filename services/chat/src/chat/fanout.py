"""In-process fan-out: queues by key, each getting every item published to its key from the
moment it subscribed, in order. Chat keeps two: the connections following each answer produced
here (by stream id) and the supervisors observing each session (by session id)."""

import asyncio
from typing import Generic, TypeVar

Item = TypeVar("Item")


class FanOut(Generic[Item]):
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Item]]] = {}

    def subscribe(self, key: str) -> asyncio.Queue[Item]:
        queue: asyncio.Queue[Item] = asyncio.Queue()
        self._queues.setdefault(key, set()).add(queue)
        return queue

    def unsubscribe(self, key: str, queue: asyncio.Queue[Item]) -> bool:
        """Whether that was the key's last subscriber (False when the key had none)."""
        queues = self._queues.get(key)
        if queues is None:
            return False
        queues.discard(queue)
        if queues:
            return False
        del self._queues[key]
        return True

    def publish(self, key: str, *items: Item) -> None:
        for queue in self._queues.get(key, ()):
            for item in items:
                queue.put_nowait(item)

    def subscribers(self, key: str) -> int:
        return len(self._queues.get(key, ()))

    def __contains__(self, key: object) -> bool:
        return key in self._queues
