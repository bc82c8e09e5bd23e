"""Decoding AWS event streams as they arrive, cut anywhere."""

import json

import pytest

from chat.providers.aws_event_stream import EventStreamDecoder, EventStreamError
from model_simulator.bedrock import event_stream


def encoded() -> bytes:
    return b"".join(
        [
            event_stream.event("messageStart", {"role": "assistant"}),
            event_stream.event("contentBlockDelta", {"delta": {"text": "héllo"}}),
            event_stream.exception("throttlingException", {"message": "slow down"}),
        ]
    )


@pytest.mark.parametrize("piece", [1, 7, 50, 10_000])
def test_messages_come_out_whole_however_the_bytes_are_cut(piece):
    data = encoded()
    decoder = EventStreamDecoder()
    messages = []
    for at in range(0, len(data), piece):
        messages += decoder.feed(data[at : at + piece])
    assert decoder.pending == 0
    assert [m.headers.get(":event-type") for m in messages] == [
        "messageStart",
        "contentBlockDelta",
        None,
    ]
    assert json.loads(messages[1].payload) == {"delta": {"text": "héllo"}}
    assert messages[2].headers[":message-type"] == "exception"
    assert messages[2].headers[":exception-type"] == "throttlingException"


def test_a_corrupted_message_is_refused():
    data = bytearray(event_stream.event("contentBlockDelta", {"delta": {"text": "x"}}))
    data[-6] ^= 0xFF  # in the payload
    with pytest.raises(EventStreamError):
        EventStreamDecoder().feed(bytes(data))


def test_a_cut_message_waits_for_the_rest():
    data = event_stream.event("contentBlockDelta", {"delta": {"text": "x"}})
    decoder = EventStreamDecoder()
    assert decoder.feed(data[:-3]) == []
    assert decoder.pending == len(data) - 3
