"""The events of one answer as its producer makes them: numbered in order and handed, in the
turn each is made, to the connections following it here (``listeners``), to this replica's
observers (``chat.observation``) and to the resume log's next batch (``resume_log``).

Should Redis lose the stream (a restart), the batcher rewrites its log whole from
``events_so_far``: the chunks are rebuilt from the pieces the answer keeps anyway, and only
the few other events (``model``, the end) are kept as sent, so a rewrite costs no memory
beyond them, and the CPU of encoding the answer's events once more.
"""

import asyncio
import logging
from typing import Any

from chat.streaming.events import StreamEvent
from chat.streaming.production.request import StreamRequest, chunk_data
from chat.streaming.resources import Dependencies

log = logging.getLogger(__name__)

FINAL_WRITE_TIMEOUT_SECONDS = 10


class AnswerEvents:
    def __init__(self, request: StreamRequest, deps: Dependencies) -> None:
        self._stream_id = request.streaming_session_id
        self._session_id = request.session_id
        self._deps = deps
        self.pieces: list[str] = []  # the text of the chunks sent, in order
        self._seq = 0
        self._ended = False
        self._kept: dict[int, StreamEvent] = {}  # the events that are not chunks, by seq
        self._log = deps.batcher.open(
            request.streaming_session_id, request.session_id, history=self.events_so_far
        )

    @property
    def last_seq(self) -> int:
        """The seq of the latest event sent."""
        return self._seq

    @property
    def ended(self) -> bool:
        """Whether the answer's last event (complete or error) has been sent."""
        return self._ended

    def begin(self, listing: dict[str, Any]) -> None:
        """List the stream as live in Redis (with its first events) under ``listing``."""
        self._log.begin(listing)

    def heartbeat(self) -> None:
        self._log.heartbeat()

    def chunk(self, piece: str) -> None:
        self.pieces.append(piece)
        self.emit("chunk", chunk_data(piece, len(self.pieces)))

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        stream_event = StreamEvent(self._stream_id, self._seq, event, data)
        self._ended = self._ended or stream_event.is_terminal
        if event != "chunk":
            self._kept[self._seq] = stream_event
        # Listeners and observers here get it now; Redis (resume log, observers on other
        # replicas) with the next batch.
        self._log.add(stream_event)
        self._deps.hub.publish(self._stream_id, stream_event)
        self._deps.observers.deliver(self._session_id, (stream_event,))

    def unconfirmed(self) -> list[StreamEvent]:
        """Events sent to this process's listeners that Redis may not have yet: a resuming
        client reads them after the log (taken before reading it, so nothing falls between).
        While Redis is to be given the stream again (it lost it), that is all of them."""
        return self._log.unwritten()

    def events_so_far(self) -> list[StreamEvent]:
        """Every event sent, the same as sent: chunks rebuilt from the pieces, the rest kept."""
        pieces, count = iter(self.pieces), 0
        events: list[StreamEvent] = []
        for seq in range(1, self._seq + 1):
            event = self._kept.get(seq)
            if event is None:
                count += 1
                event = StreamEvent(self._stream_id, seq, "chunk", chunk_data(next(pieces), count))
            events.append(event)
        return events

    async def written(self) -> None:
        """Wait for the last batch with this answer's end in it (at most a few seconds)."""
        try:
            async with asyncio.timeout(FINAL_WRITE_TIMEOUT_SECONDS):
                await self._log.written()
        except TimeoutError:
            log.warning(
                "redis did not take a stream's last events in time",
                extra={"streamingSessionId": self._stream_id},
            )

    def close(self) -> None:
        """The answer is over here: Redis is not given it again should it lose it."""
        self._log.close()
