"""The rule that turns what a probe found into a model's status."""

from datetime import UTC, datetime

from chat.model_health.status import ProbeError, Timed, judge

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def status_of(call: Timed, listed: bool | None = True) -> tuple[str, str | None]:
    check = judge("m", "bedrock", call, listed, degraded_latency_ms=1000, checked_at=NOW)
    return check.status, check.reason


def test_an_answer_in_time_is_available_listed_or_not():
    assert status_of(Timed(120)) == ("available", None)
    assert status_of(Timed(120), listed=None) == ("available", None)
    assert status_of(Timed(120), listed=False) == ("available", None)  # an inference profile


def test_a_slow_answer_or_a_throttle_is_degraded():
    assert status_of(Timed(1001)) == (
        "degraded",
        "answered in 1001 ms (slower than 1000 ms)",
    )
    throttled = ProbeError("Bedrock throttled it", throttled=True)
    assert status_of(Timed(5, throttled)) == ("degraded", "Bedrock throttled it")


def test_a_failed_call_is_unavailable_and_an_unlisted_model_says_so():
    refused = ProbeError("Bedrock refused it: ServiceUnavailableException (HTTP 503)")
    assert status_of(Timed(5, refused)) == ("unavailable", refused.reason)
    assert status_of(Timed(5, refused), listed=False) == (
        "unavailable",
        refused.reason + " and its model list does not name it",
    )
