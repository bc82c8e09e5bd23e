"""A chat completion played out: the whole JSON answer, or server-sent chunks, or a fault."""

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from model_simulator.config import SimulatorSettings
from model_simulator.control import Condition
from model_simulator.faults import DirectiveError, FaultKind, read_directives
from model_simulator.generation.answer import StopCause
from model_simulator.generation.simulation import Simulation, simulate
from model_simulator.openai.errors import (
    invalid_request,
    model_unavailable,
    rate_limited,
    server_error,
)
from model_simulator.openai.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    CompletionUsage,
    FinishReason,
)
from model_simulator.streaming import DropConnection, Head

SYSTEM_FINGERPRINT = "fp_model_simulator"
FINISH_REASONS: dict[StopCause, FinishReason] = {
    StopCause.END: "stop",
    StopCause.MAX_TOKENS: "length",
    StopCause.STOP_SEQUENCE: "stop",
}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
DONE = b"data: [DONE]\n\n"


def begin(
    request: ChatCompletionRequest,
    headers: Mapping[str, str],
    settings: SimulatorSettings,
    condition: Condition,
) -> Simulation:
    """Plan the call; a refused request, an unavailable model or a fault that strikes first
    raises an OpenAIError."""
    if not condition.available:
        raise model_unavailable()
    user_messages = [message for message in request.messages if message.role == "user"]
    prompt = user_messages[-1].text if user_messages else ""
    try:
        directives = read_directives(headers, prompt)
    except DirectiveError as exc:
        raise invalid_request(str(exc), code="invalid_simulator_directive") from exc
    if directives.fault and directives.fault.kind is FaultKind.THROTTLE:
        raise rate_limited()
    if directives.fault and directives.fault.kind is FaultKind.FAIL:
        raise server_error()
    return simulate(
        request.model,
        prompt,
        (message.text for message in request.messages),
        max_tokens=request.output_limit,
        stop_sequences=request.stop_sequences,
        directives=directives,
        settings=settings,
        extra_latency_ms=condition.extra_latency_ms,
    )


async def completion_answer(
    sim: Simulation, request: ChatCompletionRequest
) -> AsyncIterator[Head | bytes]:
    async for _ in sim.pieces():
        pass
    interruption = sim.interruption
    if interruption is None:
        completion = ChatCompletion(
            id=_completion_id(),
            created=int(time.time()),
            model=request.model,
            system_fingerprint=SYSTEM_FINGERPRINT,
            choices=[
                Choice(
                    message=AssistantMessage(content=sim.answer.text),
                    finish_reason=FINISH_REASONS[sim.answer.stop],
                )
            ],
            usage=_usage(sim),
        )
        yield Head(200, {"content-type": "application/json"})
        yield completion.model_dump_json().encode()
    elif interruption.kind is FaultKind.ERROR:
        error = server_error().response()
        yield Head(error.status_code, dict(error.headers))
        yield bytes(error.body)
    else:
        if interruption.kind is FaultKind.STALL:
            await sim.stall()
        raise DropConnection


async def completion_stream_answer(
    sim: Simulation, request: ChatCompletionRequest
) -> AsyncIterator[Head | bytes]:
    chunks = ChunkWriter(_completion_id(), request.model, request.include_usage)
    yield Head(200, SSE_HEADERS)
    started = False
    async for piece in sim.pieces():
        if not started:
            yield chunks.delta({"role": "assistant", "content": "", "refusal": None})
            started = True
        yield chunks.delta({"content": piece})
    interruption = sim.interruption
    if interruption is None:
        if not started:
            yield chunks.delta({"role": "assistant", "content": "", "refusal": None})
        yield chunks.delta({}, FINISH_REASONS[sim.answer.stop])
        if request.include_usage:
            yield chunks.usage(_usage(sim))
        yield DONE
    elif interruption.kind is FaultKind.ERROR:
        # How OpenAI reports a failure once the stream has begun; the SDK raises APIError.
        yield _sse({"error": server_error().body})
    else:
        if interruption.kind is FaultKind.STALL:
            await sim.stall()
        raise DropConnection


class ChunkWriter:
    """``chat.completion.chunk`` events of one stream, sharing its id, time and model."""

    def __init__(self, completion_id: str, model: str, include_usage: bool) -> None:
        self._base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        # With include_usage every chunk carries "usage": null until the last one, as OpenAI's do.
        self._include_usage = include_usage

    def delta(self, delta: dict[str, Any], finish_reason: FinishReason | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._chunk([choice], None)

    def usage(self, usage: CompletionUsage) -> bytes:
        return self._chunk([], usage.model_dump())

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, int] | None) -> bytes:
        chunk = {**self._base, "choices": choices}
        if self._include_usage:
            chunk["usage"] = usage
        return _sse(chunk)


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


def _usage(sim: Simulation) -> CompletionUsage:
    return CompletionUsage(
        prompt_tokens=sim.input_tokens,
        completion_tokens=sim.output_tokens,
        total_tokens=sim.input_tokens + sim.output_tokens,
    )


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"
