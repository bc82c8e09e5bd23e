import json

from botocore.eventstream import EventStreamBuffer

from model_simulator.bedrock import event_stream


def decode(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_an_event_decodes_with_botocores_own_parser():
    (message,) = decode(event_stream.event("contentBlockDelta", {"delta": {"text": "héllo"}}))

    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == {"delta": {"text": "héllo"}}


def test_an_exception_carries_its_type_and_frames_split_anywhere_reassemble():
    frames = event_stream.event("messageStart", {"role": "assistant"}) + event_stream.exception(
        "throttlingException", {"message": "slow down"}
    )
    buffer = EventStreamBuffer()
    messages = []
    for offset in range(0, len(frames), 7):
        buffer.add_data(frames[offset : offset + 7])
        messages.extend(buffer)

    assert [m.headers[":message-type"] for m in messages] == ["event", "exception"]
    assert messages[1].headers[":exception-type"] == "throttlingException"
    assert messages[1].to_response_dict()["status_code"] == 400
