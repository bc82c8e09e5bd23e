"""JSON log lines: the timestamp is the record's, to the millisecond, in UTC."""

import logging
from datetime import UTC, datetime

import orjson
import pytest

from service_kit.logs import JsonFormatter


@pytest.mark.parametrize(
    "created",
    [
        1_764_620_000.0,
        1_764_620_000.0004,
        1_764_620_000.0005,
        1_764_620_000.9994,
        1_764_620_000.9999996,  # rounds up into the next second, as datetime does
        1_764_620_001.123456,
        0.5,
    ],
)
def test_the_timestamp_is_datetimes_iso_format_to_the_millisecond(created):
    formatter = JsonFormatter("svc")
    record = logging.makeLogRecord({"msg": "hello", "created": created, "levelname": "INFO"})
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert orjson.loads(formatter.format(record))["ts"] == expected


def test_records_of_the_same_second_and_the_next_keep_their_own_time():
    formatter = JsonFormatter("svc")
    times = [1_764_620_000.1, 1_764_620_000.2, 1_764_620_001.05, 1_764_620_000.3]
    stamps = [
        orjson.loads(formatter.format(logging.makeLogRecord({"msg": "m", "created": t})))["ts"]
        for t in times
    ]
    assert stamps == [
        datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds") for t in times
    ]
