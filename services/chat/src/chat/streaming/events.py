"""The events of one streamed answer, as they go to users, observers and the resume log."""

import json
from dataclasses import asdict, dataclass
from typing import Any

TERMINAL = frozenset({"complete", "error"})


@dataclass(frozen=True)
class StreamEvent:
    stream_id: str  # the accounting reservation id, also the answer's streamingSessionId
    seq: int
    event: str  # model | chunk | complete | error
    data: dict[str, Any]

    @property
    def sse_id(self) -> str:
        """The SSE ``id:``; a client resumes by sending it back as ``Last-Event-ID``."""
        return f"{self.stream_id}:{self.seq}"

    @property
    def is_terminal(self) -> bool:
        return self.event in TERMINAL

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> "StreamEvent":
        return cls(**json.loads(raw))


def parse_last_event_id(value: str | None) -> tuple[str, int] | None:
    """(stream id, seq) from a Last-Event-ID header, or None when absent or not ours."""
    if not value or ":" not in value:
        return None
    stream_id, _, seq = value.rpartition(":")
    if not seq.isdigit() or not stream_id or len(stream_id) > 100:
        return None
    return stream_id, int(seq)
