"""Per-request directives, from ``x-sim-*`` headers or ``[[sim:...]]`` markers in the prompt.

A directive is ``name`` or ``name=value``. Markers are read from the last user message only, so
a marker in a conversation's history does not haunt every later turn. Headers win over markers;
among several faults the last one read wins. An unknown or malformed directive is a 400 in the
provider's error format, so a typo never silently runs a normal answer.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    FAIL = "fail"
    THROTTLE = "throttle"
    STALL = "stall"
    CUT = "cut"
    ERROR = "error"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    after_tokens: int = 0


@dataclass(frozen=True)
class Directives:
    fault: Fault | None = None
    answer_tokens: int | None = None
    first_token_delay_ms: int | None = None
    tokens_per_second: float | None = None


class DirectiveError(ValueError):
    pass


MARKER = re.compile(r"\[\[sim:([^\]]*)\]\]")
HEADER_PREFIX = "x-sim-"
FAULT_HEADER = "x-sim-fault"

_FAULTS_WITHOUT_COUNT = {
    "fail": FaultKind.FAIL,
    "throttle": FaultKind.THROTTLE,
    "stall": FaultKind.STALL,
}
_FAULTS_AFTER_COUNT = {
    "stall-after": FaultKind.STALL,
    "cut-after": FaultKind.CUT,
    "error-after": FaultKind.ERROR,
}


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _rate(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1_000_000:
        raise ValueError("must be between 0 and 1000000")
    return number


_KNOBS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "answer-tokens": ("answer_tokens", _whole(1, 100_000)),
    "first-token-delay-ms": ("first_token_delay_ms", _whole(0, 600_000)),
    "tokens-per-second": ("tokens_per_second", _rate),
}
_AFTER_COUNT = _whole(0, 100_000)


def read_directives(headers: Mapping[str, str], prompt: str) -> Directives:
    items = [match.group(1).strip() for match in MARKER.finditer(prompt)]
    for knob in _KNOBS:
        if (value := headers.get(HEADER_PREFIX + knob)) is not None:
            items.append(f"{knob}={value.strip()}")
    if fault := headers.get(FAULT_HEADER):
        items.append(fault.strip())
    values: dict[str, Any] = {}
    for item in items:
        _apply(item, values)
    return Directives(**values)


def _apply(item: str, values: dict[str, Any]) -> None:
    name, has_value, value = item.partition("=")
    name = name.strip().lower()
    if name in _FAULTS_WITHOUT_COUNT and not has_value:
        values["fault"] = Fault(_FAULTS_WITHOUT_COUNT[name])
    elif name in _FAULTS_AFTER_COUNT and has_value:
        values["fault"] = Fault(_FAULTS_AFTER_COUNT[name], _parse(item, _AFTER_COUNT, value))
    elif name in _KNOBS and has_value:
        field, parse = _KNOBS[name]
        values[field] = _parse(item, parse, value)
    else:
        raise DirectiveError(f"Unknown simulator directive {item!r}")


def _parse(item: str, parse: Callable[[str], Any], value: str) -> Any:
    try:
        return parse(value.strip())
    except ValueError as exc:
        raise DirectiveError(f"Invalid simulator directive {item!r}: {exc}") from exc
