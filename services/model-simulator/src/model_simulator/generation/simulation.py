"""One simulated model call: the planned answer, its pace, and the fault that may interrupt it."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from model_simulator.config import SimulatorSettings
from model_simulator.faults import Directives, Fault, FaultKind
from model_simulator.generation.answer import Answer, plan_answer
from model_simulator.generation.text import count_tokens
from model_simulator.metrics import TOKENS_GENERATED

T = TypeVar("T")

MID_ANSWER_FAULTS = frozenset({FaultKind.STALL, FaultKind.CUT, FaultKind.ERROR})


@dataclass(frozen=True)
class Pace:
    first_token_delay: float
    tokens_per_second: float

    def offset(self, index: int) -> float:
        """Seconds from the start of the call until token ``index`` (from 0) is due."""
        if self.tokens_per_second == 0:
            return self.first_token_delay
        return self.first_token_delay + index / self.tokens_per_second


@dataclass(frozen=True)
class Simulation:
    answer: Answer
    input_tokens: int
    pace: Pace
    fault: Fault | None
    max_stall_seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def output_tokens(self) -> int:
        return len(self.answer.words)

    @property
    def interruption(self) -> Fault | None:
        """The stall, cut or error striking after N tokens, when the answer has N tokens or more.

        With N equal to the answer's length every token arrives but the stream never ends well.
        """
        fault = self.fault
        if fault and fault.kind in MID_ANSWER_FAULTS and fault.after_tokens <= self.output_tokens:
            return fault
        return None

    async def pieces(self) -> AsyncIterator[str]:
        """The text of each token, each at its due time, up to an interruption."""
        interruption = self.interruption
        end = interruption.after_tokens if interruption else self.output_tokens
        for index in range(end):
            wait = self.started + self.pace.offset(index) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            TOKENS_GENERATED.inc()
            yield self.answer.piece(index)

    async def stall(self) -> None:
        await asyncio.sleep(self.max_stall_seconds)

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


def simulate(
    model_id: str,
    prompt: str,
    input_texts: Iterable[str],
    *,
    max_tokens: int | None,
    stop_sequences: Sequence[str],
    directives: Directives,
    settings: SimulatorSettings,
    extra_latency_ms: int = 0,
) -> Simulation:
    """Plan the call for ``prompt`` (the last user message); ``input_texts`` are all texts sent;
    ``extra_latency_ms`` (a slow model's) comes before the first token on top of its delay."""
    answer = plan_answer(
        model_id,
        prompt,
        length=_first(directives.answer_tokens, settings.answer_tokens),
        max_tokens=max_tokens,
        stop_sequences=stop_sequences,
    )
    pace = Pace(
        first_token_delay=(
            _first(directives.first_token_delay_ms, settings.first_token_delay_ms)
            + extra_latency_ms
        )
        / 1000,
        tokens_per_second=_first(directives.tokens_per_second, settings.tokens_per_second),
    )
    return Simulation(
        answer=answer,
        input_tokens=sum(count_tokens(text) for text in input_texts),
        pace=pace,
        fault=directives.fault,
        max_stall_seconds=settings.max_stall_seconds,
    )


def _first(override: T | None, default: T) -> T:
    return default if override is None else override
