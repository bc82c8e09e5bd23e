"""A Messages call played out: the whole JSON message, or Anthropic's server-sent events, or a
fault.

The stream is Anthropic's event sequence: ``message_start`` (with the input tokens),
``content_block_start``, a ``ping``, one ``content_block_delta`` (``text_delta``) per token,
``content_block_stop``, ``message_delta`` (stop reason, ``usage.output_tokens``),
``message_stop``. ``error-after=N`` sends an ``error`` event instead of the end.
"""

import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model_simulator.anthropic.errors import (
    api_error,
    invalid_request,
    overloaded,
    rate_limited,
    request_id_header,
)
from model_simulator.anthropic.schemas import (
    Message,
    MessagesRequest,
    StopReason,
    TextBlock,
    Usage,
)
from model_simulator.config import SimulatorSettings
from model_simulator.control import Condition
from model_simulator.faults import DirectiveError, FaultKind, read_directives
from model_simulator.generation.answer import StopCause, plan_answer
from model_simulator.generation.simulation import Simulation, simulate
from model_simulator.streaming import DropConnection, Head

STOP_REASONS: dict[StopCause, StopReason] = {
    StopCause.END: "end_turn",
    StopCause.MAX_TOKENS: "max_tokens",
    StopCause.STOP_SEQUENCE: "stop_sequence",
}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass(frozen=True)
class MessageCall:
    sim: Simulation
    model: str
    stop_sequence: str | None  # the one that ended the answer, if one did
    message_id: str

    @property
    def stop_reason(self) -> StopReason:
        return STOP_REASONS[self.sim.answer.stop]

    def usage(self) -> Usage:
        return Usage(input_tokens=self.sim.input_tokens, output_tokens=self.sim.output_tokens)


def begin(
    request: MessagesRequest,
    headers: Mapping[str, str],
    settings: SimulatorSettings,
    condition: Condition,
) -> MessageCall:
    """Plan the call; a refused request, an unavailable model or a fault that strikes first
    raises an AnthropicError."""
    if not condition.available:
        raise overloaded()
    user_messages = [message for message in request.messages if message.role == "user"]
    prompt = user_messages[-1].text if user_messages else ""
    try:
        directives = read_directives(headers, prompt)
    except DirectiveError as exc:
        raise invalid_request(str(exc)) from exc
    if directives.fault and directives.fault.kind is FaultKind.THROTTLE:
        raise rate_limited()
    if directives.fault and directives.fault.kind is FaultKind.FAIL:
        raise api_error()
    texts = [request.system_text, *(message.text for message in request.messages)]
    sim = simulate(
        request.model,
        prompt,
        texts,
        max_tokens=request.max_tokens,
        stop_sequences=request.stop_sequences,
        directives=directives,
        settings=settings,
        extra_latency_ms=condition.extra_latency_ms,
    )
    stop_sequence = None
    if sim.answer.stop is StopCause.STOP_SEQUENCE:
        length = directives.answer_tokens or settings.answer_tokens
        uncut = plan_answer(request.model, prompt, length=length, max_tokens=request.max_tokens)
        stop_sequence = _first_found(uncut.text, request.stop_sequences)
    return MessageCall(sim, request.model, stop_sequence, f"msg_sim_{uuid.uuid4().hex[:24]}")


async def message_answer(call: MessageCall) -> AsyncIterator[Head | bytes]:
    sim = call.sim
    async for _ in sim.pieces():
        pass
    interruption = sim.interruption
    if interruption is None:
        message = Message(
            id=call.message_id,
            model=call.model,
            content=[TextBlock(text=sim.answer.text)] if sim.answer.words else [],
            stop_reason=call.stop_reason,
            stop_sequence=call.stop_sequence,
            usage=call.usage(),
        )
        yield Head(200, {"content-type": "application/json", **request_id_header()})
        yield message.model_dump_json().encode()
    elif interruption.kind is FaultKind.ERROR:
        error = api_error()
        yield Head(error.status, {"content-type": "application/json", **request_id_header()})
        yield error.body.model_dump_json().encode()
    else:
        if interruption.kind is FaultKind.STALL:
            await sim.stall()
        raise DropConnection


async def message_stream_answer(call: MessageCall) -> AsyncIterator[Head | bytes]:
    sim = call.sim
    yield Head(200, {**SSE_HEADERS, **request_id_header()})
    started = False
    async for piece in sim.pieces():
        if not started:
            for event in _opening(call):
                yield event
            started = True
        yield _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
    interruption = sim.interruption
    if interruption is None:
        if not started:
            for event in _opening(call):
                yield event
        yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": call.stop_reason, "stop_sequence": call.stop_sequence},
                "usage": {"output_tokens": sim.output_tokens},
            },
        )
        yield _event("message_stop", {"type": "message_stop"})
    elif interruption.kind is FaultKind.ERROR:
        # How Anthropic reports a failure once the stream has begun; the SDK raises APIError.
        yield _event("error", api_error().body.model_dump())
    else:
        if interruption.kind is FaultKind.STALL:
            await sim.stall()
        raise DropConnection


def _opening(call: MessageCall) -> list[bytes]:
    # output_tokens in message_start is a running count, as Anthropic's (its final figure is
    # message_delta's).
    start: dict[str, Any] = {
        "id": call.message_id,
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": call.sim.input_tokens, "output_tokens": 1},
    }
    return [
        _event("message_start", {"type": "message_start", "message": start}),
        _event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        _event("ping", {"type": "ping"}),
    ]


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _first_found(text: str, sequences: Sequence[str]) -> str | None:
    found = [
        (at, sequence) for sequence in sequences if sequence and (at := text.find(sequence)) >= 0
    ]
    return min(found, key=lambda pair: pair[0])[1] if found else None
