"""A Converse call played out: the whole JSON answer, or the event stream, or a fault."""

from collections.abc import AsyncIterator, Mapping

from model_simulator.bedrock import event_stream
from model_simulator.bedrock.conversation import all_texts, check_conversation, last_user_text
from model_simulator.bedrock.errors import (
    internal_server_exception,
    model_error_exception,
    request_id_header,
    service_unavailable_exception,
    throttling_exception,
    validation_exception,
)
from model_simulator.bedrock.schemas import (
    ConverseMetrics,
    ConverseOutput,
    ConverseRequest,
    ConverseResponse,
    OutputMessage,
    StopReason,
    TextBlock,
    TokenUsage,
)
from model_simulator.config import SimulatorSettings
from model_simulator.control import Condition
from model_simulator.faults import DirectiveError, FaultKind, read_directives
from model_simulator.generation.answer import StopCause
from model_simulator.generation.simulation import Simulation, simulate
from model_simulator.streaming import DropConnection, Head

STOP_REASONS: dict[StopCause, StopReason] = {
    StopCause.END: "end_turn",
    StopCause.MAX_TOKENS: "max_tokens",
    StopCause.STOP_SEQUENCE: "stop_sequence",
}


def begin(
    model_id: str,
    request: ConverseRequest,
    headers: Mapping[str, str],
    settings: SimulatorSettings,
    condition: Condition,
) -> Simulation:
    """Plan the call; a refused request, an unavailable model or a fault that strikes first
    raises a BedrockError."""
    if not condition.available:
        raise service_unavailable_exception()
    check_conversation(request.messages)
    prompt = last_user_text(request.messages)
    try:
        directives = read_directives(headers, prompt)
    except DirectiveError as exc:
        raise validation_exception(str(exc)) from exc
    if directives.fault and directives.fault.kind is FaultKind.THROTTLE:
        raise throttling_exception()
    if directives.fault and directives.fault.kind is FaultKind.FAIL:
        raise internal_server_exception()
    config = request.inference_config
    return simulate(
        model_id,
        prompt,
        all_texts(request),
        max_tokens=config.max_tokens,
        stop_sequences=config.stop_sequences,
        directives=directives,
        settings=settings,
        extra_latency_ms=condition.extra_latency_ms,
    )


async def converse_answer(sim: Simulation) -> AsyncIterator[Head | bytes]:
    async for _ in sim.pieces():
        pass
    interruption = sim.interruption
    if interruption is None:
        yield Head(200, {"content-type": "application/json", **request_id_header()})
        yield _converse_response(sim).model_dump_json(by_alias=True).encode()
    elif interruption.kind is FaultKind.ERROR:
        error = model_error_exception().response()
        yield Head(error.status_code, dict(error.headers))
        yield bytes(error.body)
    else:
        if interruption.kind is FaultKind.STALL:
            await sim.stall()
        raise DropConnection


async def converse_stream_answer(sim: Simulation) -> AsyncIterator[Head | bytes]:
    yield Head(200, {"content-type": event_stream.CONTENT_TYPE, **request_id_header()})
    started = False
    async for piece in sim.pieces():
        if not started:
            yield event_stream.event("messageStart", {"role": "assistant"})
            started = True
        yield _delta(piece)
    interruption = sim.interruption
    if interruption is None:
        if not started:
            yield event_stream.event("messageStart", {"role": "assistant"})
        yield event_stream.event("contentBlockStop", {"contentBlockIndex": 0})
        yield event_stream.event("messageStop", {"stopReason": STOP_REASONS[sim.answer.stop]})
        yield event_stream.event(
            "metadata",
            {
                "usage": _usage(sim).model_dump(by_alias=True),
                "metrics": {"latencyMs": sim.elapsed_ms()},
            },
        )
    elif interruption.kind is FaultKind.ERROR:
        yield event_stream.exception(
            "modelStreamErrorException",
            {
                "message": "The model failed while streaming its answer (simulated fault).",
                "originalStatusCode": 500,
                "originalMessage": "simulated fault",
            },
        )
    elif interruption.kind is FaultKind.STALL:
        await sim.stall()
        raise DropConnection
    else:
        half_frame = _delta(" cut")
        yield half_frame[: len(half_frame) // 2]
        raise DropConnection


def _delta(piece: str) -> bytes:
    return event_stream.event(
        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}
    )


def _usage(sim: Simulation) -> TokenUsage:
    return TokenUsage(
        input_tokens=sim.input_tokens,
        output_tokens=sim.output_tokens,
        total_tokens=sim.input_tokens + sim.output_tokens,
    )


def _converse_response(sim: Simulation) -> ConverseResponse:
    return ConverseResponse(
        output=ConverseOutput(message=OutputMessage(content=[TextBlock(text=sim.answer.text)])),
        stop_reason=STOP_REASONS[sim.answer.stop],
        usage=_usage(sim),
        metrics=ConverseMetrics(latency_ms=sim.elapsed_ms()),
    )
