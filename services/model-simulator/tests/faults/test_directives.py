import pytest

from model_simulator.faults import DirectiveError, Directives, Fault, FaultKind, read_directives


def test_nothing_asked_is_no_directive():
    assert read_directives({}, "a plain question") == Directives()


@pytest.mark.parametrize(
    ("marker", "fault"),
    [
        ("fail", Fault(FaultKind.FAIL)),
        ("throttle", Fault(FaultKind.THROTTLE)),
        ("stall", Fault(FaultKind.STALL, 0)),
        ("stall-after=7", Fault(FaultKind.STALL, 7)),
        ("cut-after=5", Fault(FaultKind.CUT, 5)),
        ("error-after=0", Fault(FaultKind.ERROR, 0)),
    ],
)
def test_each_fault_marker(marker, fault):
    assert read_directives({}, f"question [[sim:{marker}]] here").fault == fault


def test_knobs_come_from_markers_and_headers_and_headers_win():
    prompt = "q [[sim:answer-tokens=5]] [[sim:tokens-per-second=2.5]] [[sim:cut-after=1]]"
    headers = {"x-sim-answer-tokens": "9", "x-sim-first-token-delay-ms": "0", "x-sim-fault": "fail"}

    assert read_directives(headers, prompt) == Directives(
        fault=Fault(FaultKind.FAIL),
        answer_tokens=9,
        first_token_delay_ms=0,
        tokens_per_second=2.5,
    )


@pytest.mark.parametrize(
    "prompt",
    [
        "[[sim:explode]]",
        "[[sim:cut-after]]",
        "[[sim:fail=3]]",
        "[[sim:cut-after=-1]]",
        "[[sim:answer-tokens=0]]",
        "[[sim:tokens-per-second=fast]]",
    ],
)
def test_a_typo_is_refused_rather_than_ignored(prompt):
    with pytest.raises(DirectiveError):
        read_directives({}, prompt)
