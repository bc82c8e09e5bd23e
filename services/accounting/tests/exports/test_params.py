"""An export's parameters on their own: the dimensions named, and the range of from and to."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounting.exports.schemas import DEFAULT_GROUP_BY, export_range, parse_group_by
from service_kit import ApiError

NOW = datetime(2030, 6, 15, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "dimensions"),
    [
        (None, DEFAULT_GROUP_BY),
        ("", ()),
        ("  ", ()),
        ("model,day", ("day", "model")),  # always in one order: day, user, team, key, model
        ("key, team ,user", ("user", "team", "key")),
        ("model,model", ("model",)),
    ],
)
def test_group_by_names_dimensions_in_a_fixed_order(text, dimensions):
    assert parse_group_by(text) == dimensions


def test_an_unknown_dimension_is_named():
    with pytest.raises(ApiError) as refused:
        parse_group_by("day,hour,week")
    assert (refused.value.status, refused.value.code) == (422, "invalid_group_by")
    assert refused.value.details["unknown"] == ["hour", "week"]


def test_dates_are_whole_utc_days_and_timestamps_instants():
    days = export_range(date(2030, 6, 1), date(2030, 6, 2), NOW, 366)
    assert (days.start, days.end) == (
        datetime(2030, 6, 1, tzinfo=UTC),
        datetime(2030, 6, 3, tzinfo=UTC),
    )
    moment = datetime(2030, 6, 1, 9, tzinfo=UTC) + timedelta(microseconds=5)
    instants = export_range(moment, NOW, NOW, 366)
    assert (instants.start, instants.end) == (moment, NOW)
    assert instants.period == "2030-06-01T09:00:00.000005Z/2030-06-15T12:30:00Z"


def test_defaults_are_the_30_days_before_to_or_now():
    assert export_range(None, None, NOW, 366).start == NOW - timedelta(days=30)
    until = export_range(None, date(2030, 1, 31), NOW, 366)
    assert (until.start, until.end) == (
        datetime(2030, 1, 2, tzinfo=UTC),
        datetime(2030, 2, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2030, 6, 2), date(2030, 6, 1)),
        (datetime(2030, 6, 2, tzinfo=UTC), date(2030, 6, 1)),
        (date(2030, 6, 16), None),  # after now
        (date(2029, 6, 1), date(2030, 6, 2)),  # 367 days
    ],
)
def test_a_backwards_or_too_long_range_is_refused(start, end):
    with pytest.raises(ApiError) as refused:
        export_range(start, end, NOW, 366)
    assert (refused.value.status, refused.value.code) == (422, "invalid_range")


def test_from_equal_to_is_an_empty_range_not_an_error():
    empty = export_range(NOW, NOW, NOW, 366)
    assert empty.start == empty.end == NOW
    one_day = export_range(date(2030, 6, 1), date(2030, 6, 1), NOW, 366)
    assert one_day.end - one_day.start == timedelta(days=1)
