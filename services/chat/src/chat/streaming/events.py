"""The events of one streamed answer, as they go to users, observers and the resume log.

An event's data is encoded to JSON once (``data_json``) and that text is reused for the SSE
frame and for the Redis record; streaming a chunk costs one ``json.dumps``.
"""

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

TERMINAL = frozenset({"complete", "error"})
SSE_SEPARATOR = "\r\n"  # what sse-starlette uses for the frames it builds (heartbeats)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class StreamEvent:
    streaming_session_id: str  # the accounting reservation id, also the answer's streamingSessionId
    seq: int
    event: str  # model | chunk | complete | error
    data: dict[str, Any]

    @property
    def sse_id(self) -> str:
        """The SSE ``id:``; a client resumes by sending it back as ``Last-Event-ID``."""
        return f"{self.streaming_session_id}:{self.seq}"

    @property
    def is_terminal(self) -> bool:
        return self.event in TERMINAL

    @cached_property
    def data_json(self) -> str:
        return compact_json(self.data)

    @cached_property
    def sse_frame(self) -> bytes:
        """The whole SSE frame. JSON text has no line breaks, so ``data:`` is one line."""
        sep = SSE_SEPARATOR
        return (
            f"id: {self.sse_id}{sep}event: {self.event}{sep}data: {self.data_json}{sep}{sep}"
        ).encode()

    def to_json(self) -> str:
        """The record kept in the resume log and published to observers. Its field keeps the
        name ``stream_id``: replicas of another version and logs written before read it."""
        return (
            f'{{"stream_id":{compact_json(self.streaming_session_id)},"seq":{self.seq},'
            f'"event":{compact_json(self.event)},"data":{self.data_json}}}'
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> "StreamEvent":
        return cls.from_record(json.loads(raw))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "StreamEvent":
        return cls(record["stream_id"], record["seq"], record["event"], record["data"])


# An id this service sends: ``{streamingSessionId}:{seq}``. The seq has at most 18 digits (a
# Redis stream id is 64 bits; an answer has a few thousand events), in ASCII only.
_EVENT_ID = re.compile(r"([A-Za-z0-9._-]{1,100}):([0-9]{1,18})")


class BadLastEventId(ValueError):
    """A Last-Event-ID that is no event id this service sends."""


def parse_last_event_id(value: str | None) -> tuple[str, int] | None:
    """(stream id, seq) from a Last-Event-ID header; None when absent or empty (a new
    stream). Anything else raises BadLastEventId: a client resumes only with an id it got."""
    if value is None or not value.strip():
        return None
    match = _EVENT_ID.fullmatch(value.strip())
    if match is None:
        raise BadLastEventId(
            "Last-Event-ID must be the id of an event of this stream, as sent: "
            "{streamingSessionId}:{sequence number}"
        )
    return match[1], int(match[2])
