"""The names the services import from rate_limits, pinned, and the 429 they answer with."""

import rate_limits
from service_kit import ApiError


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(rate_limits.__all__) == [
        "FailOpen",
        "FixedWindow",
        "Reservation",
        "SlotCounters",
        "WindowCount",
        "rate_limited",
    ]
    for name in rate_limits.__all__:
        assert getattr(rate_limits, name) is not None, name


def test_past_a_limit_the_answer_is_429_rate_limited_with_retry_after():
    refusal = rate_limits.rate_limited("At most 3 requests a minute; try again in 7 s", 7)
    assert isinstance(refusal, ApiError)
    assert (refusal.status, refusal.code) == (429, "rate_limited")
    assert refusal.message == "At most 3 requests a minute; try again in 7 s"
    assert refusal.headers == {"Retry-After": "7"}


def test_a_window_count_is_exceeded_only_past_its_limit():
    at_limit = rate_limits.WindowCount("p:b:1", count=3, limit=3, retry_after=5)
    assert not at_limit.exceeded
    assert rate_limits.WindowCount("p:b:1", count=4, limit=3, retry_after=5).exceeded
