import time

import pytest
from botocore.exceptions import ConnectionClosedError, EventStreamError
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from model_simulator.generation import expected_answer

from ..conftest import HAIKU, MAX_STALL_SECONDS, bedrock_client, user_turn

pytestmark = pytest.mark.timeout(20)


def stream_until_failure(response) -> tuple[str, Exception]:
    """The text received before iterating the event stream raised, and what it raised."""
    text = ""
    try:
        for event in response["stream"]:
            if "contentBlockDelta" in event:
                text += event["contentBlockDelta"]["delta"]["text"]
    except Exception as exc:
        return text, exc
    finally:
        response["stream"].close()
    raise AssertionError(f"the stream ended normally after {text!r}")


def test_fail_is_an_internal_server_exception_before_any_token(bedrock):
    with pytest.raises(bedrock.exceptions.InternalServerException) as raised:
        bedrock.converse_stream(modelId=HAIKU, messages=user_turn("hi [[sim:fail]]"))

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_throttle_is_a_throttling_exception(bedrock):
    with pytest.raises(bedrock.exceptions.ThrottlingException) as raised:
        bedrock.converse(modelId=HAIKU, messages=user_turn("hi [[sim:throttle]]"))

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_the_fault_header_works_from_boto3_too(simulator_url):
    client = bedrock_client(simulator_url)

    def add_fault(request, **_):
        request.headers["x-sim-fault"] = "throttle"

    client.meta.events.register("before-sign.bedrock-runtime.Converse", add_fault)

    with pytest.raises(client.exceptions.ThrottlingException):
        client.converse(modelId=HAIKU, messages=user_turn("no marker here"))


def test_error_after_sends_a_model_stream_error_event_after_n_tokens(bedrock):
    prompt = "go [[sim:error-after=3]]"
    response = bedrock.converse_stream(modelId=HAIKU, messages=user_turn(prompt))

    text, error = stream_until_failure(response)

    assert text == expected_answer(HAIKU, prompt, 3)
    assert isinstance(error, EventStreamError)
    assert error.response["Error"]["Code"] == "modelStreamErrorException"


def test_error_after_without_streaming_is_a_model_error_exception(bedrock):
    with pytest.raises(bedrock.exceptions.ModelErrorException) as raised:
        bedrock.converse(modelId=HAIKU, messages=user_turn("go [[sim:error-after=2]]"))

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424


def test_cut_after_drops_the_connection_mid_event_after_n_tokens(bedrock):
    prompt = "go [[sim:cut-after=4]]"
    response = bedrock.converse_stream(modelId=HAIKU, messages=user_turn(prompt))

    text, error = stream_until_failure(response)

    assert text == expected_answer(HAIKU, prompt, 4)
    assert isinstance(error, ProtocolError)


def test_cut_without_streaming_closes_the_connection(bedrock):
    with pytest.raises(ConnectionClosedError):
        bedrock.converse(modelId=HAIKU, messages=user_turn("go [[sim:cut-after=2]]"))


def test_a_stalled_stream_runs_into_the_clients_read_timeout(simulator_url):
    client = bedrock_client(simulator_url, read_timeout=0.3)
    prompt = "go [[sim:stall-after=2]]"
    started = time.monotonic()
    response = client.converse_stream(modelId=HAIKU, messages=user_turn(prompt))

    text, error = stream_until_failure(response)

    assert text == expected_answer(HAIKU, prompt, 2)
    assert isinstance(error, ReadTimeoutError)
    assert 0.3 <= time.monotonic() - started < MAX_STALL_SECONDS


def test_a_stall_is_bounded_by_max_stall_seconds(bedrock):
    started = time.monotonic()
    response = bedrock.converse_stream(modelId=HAIKU, messages=user_turn("go [[sim:stall]]"))

    text, error = stream_until_failure(response)

    assert text == ""
    assert isinstance(error, ProtocolError)
    assert MAX_STALL_SECONDS <= time.monotonic() - started < MAX_STALL_SECONDS + 2
