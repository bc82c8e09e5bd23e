import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from event_bus import Event, MalformedEvent, new_event


def test_new_event_is_a_flat_envelope_with_the_body_fields() -> None:
    before = datetime.now(UTC)
    event = new_event("user.registered", {"userId": "u1", "role": "user"}, version=2)

    assert uuid.UUID(event["eventId"]).version == 4
    assert event["type"] == "user.registered"
    assert event["version"] == 2
    assert event["occurredAt"].endswith("Z")
    occurred = datetime.fromisoformat(event["occurredAt"])
    assert before - timedelta(seconds=1) <= occurred <= datetime.now(UTC)
    assert event["userId"] == "u1" and event["role"] == "user"
    assert new_event("user.registered", {})["eventId"] != event["eventId"]


def test_new_event_refuses_body_fields_that_shadow_the_envelope() -> None:
    with pytest.raises(ValueError, match="eventId"):
        new_event("user.registered", {"eventId": "mine"})


def test_event_round_trips_through_bytes() -> None:
    original = new_event("usage.recorded", {"userId": "u1", "inputTokens": 3, "extra": {"a": [1]}})
    event = Event.from_bytes(json.dumps(original).encode())

    assert event.event_id == uuid.UUID(original["eventId"])
    assert event.type == "usage.recorded"
    assert event.version == 1
    assert event.occurred_at.tzinfo is not None
    assert event.body == {"userId": "u1", "inputTokens": 3, "extra": {"a": [1]}}
    assert event.to_dict() == original


def test_offset_timestamps_are_accepted_and_normalised_to_utc() -> None:
    raw = json.dumps(
        {
            "eventId": str(uuid.uuid4()),
            "type": "a.b",
            "occurredAt": "2024-05-01T12:00:00+02:00",
            "version": 1,
        }
    ).encode()
    event = Event.from_bytes(raw)
    assert event.occurred_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert event.to_dict()["occurredAt"] == "2024-05-01T10:00:00Z"


def _valid() -> dict:
    return {
        "eventId": str(uuid.uuid4()),
        "type": "user.registered",
        "occurredAt": "2024-05-01T10:00:00Z",
        "version": 1,
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({k: v for k, v in _valid().items() if k != "eventId"}).encode(), "eventId"),
        (json.dumps({**_valid(), "eventId": "nope"}).encode(), "eventId"),
        (json.dumps({**_valid(), "type": ""}).encode(), "type"),
        (json.dumps({**_valid(), "type": "user.*"}).encode(), "type"),
        (json.dumps({**_valid(), "occurredAt": "2024-05-01T10:00:00"}).encode(), "occurredAt"),
        (json.dumps({**_valid(), "occurredAt": 1714557600}).encode(), "occurredAt"),
        (json.dumps({**_valid(), "version": "1"}).encode(), "version"),
        (json.dumps({**_valid(), "version": 0}).encode(), "version"),
        (json.dumps({**_valid(), "version": True}).encode(), "version"),
    ],
)
def test_malformed_messages_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        Event.from_bytes(raw)
    assert reason in caught.value.reason
