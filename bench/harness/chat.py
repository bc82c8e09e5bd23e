"""One answer streamed from chat, read with httpx-sse and timed event by event."""

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from .platform import User


def prompt(text: str, *, tokens: int, per_second: float) -> str:
    """``text`` with the model simulator's directives: no first-token delay, ``tokens``
    tokens at ``per_second`` (0: all at once)."""
    return (
        f"{text} [[sim:first-token-delay-ms=0]] [[sim:answer-tokens={tokens}]] "
        f"[[sim:tokens-per-second={per_second:g}]]"
    )


async def timed_events(response: httpx.Response) -> AsyncIterator[tuple[ServerSentEvent, float]]:
    """Each event of ``response`` with the perf_counter time it was parsed, which is the turn
    of the event loop its last bytes arrived in; comments (heartbeats) are skipped."""
    async with contextlib.aclosing(EventSource(response).aiter_sse()) as events:
        async for event in events:
            yield event, time.perf_counter()


@dataclass
class Stream:
    """What one stream did, in perf_counter seconds."""

    started: float = 0.0
    first: float | None = None  # first chunk (or content delta)
    last: float | None = None
    chunks: int = 0
    outcome: str = ""  # "complete", or what went wrong; "" = still running or cancelled
    chunk_times: dict[str, float] | None = None  # SSE id -> receive time, when asked for
    stream_id: str | None = None  # the `model` event's streamingSessionId
    input_tokens: int = 0  # as the `complete` event names them
    output_tokens: int = 0

    @property
    def ttft(self) -> float | None:
        return None if self.first is None else self.first - self.started

    @property
    def streaming(self) -> bool:
        return self.first is not None and not self.outcome

    def rate(self) -> float | None:
        if self.chunks < 2 or self.first is None or self.last is None or self.last <= self.first:
            return None
        return (self.chunks - 1) / (self.last - self.first)

    def chunk(self, event_id: str, received: float) -> None:
        if self.first is None:
            self.first = received
        self.last = received
        self.chunks += 1
        if self.chunk_times is not None:
            self.chunk_times[event_id] = received


async def refusal(response: httpx.Response) -> str:
    """The status and error code of a response that is not the stream asked for."""
    await response.aread()
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    return f"http {response.status_code} {code}".strip()


async def chat_stream(
    client: httpx.AsyncClient, user: User, session_id: str, message: str, result: Stream
) -> None:
    """POST ``message`` to the session's stream and record it in ``result``, from sending the
    request to the `complete` (or `error`) event."""
    result.started = time.perf_counter()
    try:
        async with client.stream(
            "POST",
            f"/api/chat/sessions/{session_id}/stream",
            json={"message": message},
            headers=user.headers,
        ) as response:
            if response.status_code != 200:
                result.outcome = await refusal(response)
                return
            async for event, received in timed_events(response):
                if event.event == "chunk":
                    result.chunk(event.id, received)
                elif event.event == "model":
                    result.stream_id = json.loads(event.data)["streamingSessionId"]
                elif event.event == "complete":
                    body = json.loads(event.data)
                    result.input_tokens = body["inputTokens"]
                    result.output_tokens = body["outputTokens"]
                    result.outcome = "complete"
                    return
                elif event.event == "error":
                    result.outcome = f"error event {json.loads(event.data).get('code', '')}"
                    return
            result.outcome = "ended without complete"
    except (httpx.HTTPError, SSEError, ValueError, KeyError) as exc:
        result.outcome = type(exc).__name__
