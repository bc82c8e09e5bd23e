"""Anthropic's Messages API as the official ``anthropic`` SDK sees it against the simulator's
real HTTP server: the deterministic text, Anthropic's usage and stop reasons, the streamed
event sequence, its key check and its faults."""

import json

import anthropic as sdk
import httpx
import httpx2
import pytest

from model_simulator.generation import expected_answer
from model_simulator.keys import fingerprint

from ..conftest import ANSWER_TOKENS, ANTHROPIC_KEY, MAX_STALL_SECONDS, anthropic_client

pytestmark = pytest.mark.timeout(20)

MODEL = "claude-3-5-haiku-20241022"
HEADERS = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def raw_events(url: str, body: dict) -> list[tuple[str, dict]]:
    """The SSE events of a streamed call as sent: (event name, data)."""
    with httpx.stream("POST", f"{url}/v1/messages", json=body, headers=HEADERS) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_message_answers_the_deterministic_text_with_anthropics_usage(anthropic):
    message = anthropic.messages.create(
        model=MODEL,
        max_tokens=100,
        system="You are terse.",
        messages=[
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there"},
            {"role": "user", "content": [{"type": "text", "text": "Name a river"}]},
        ],
    )

    assert (message.type, message.role, message.model) == ("message", "assistant", MODEL)
    assert message.id.startswith("msg_")
    (block,) = message.content
    assert block.type == "text"
    assert block.text == expected_answer(MODEL, "Name a river", ANSWER_TOKENS)
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    # every text of the request: system 3, the turns 1 + 2 + 3
    assert (message.usage.input_tokens, message.usage.output_tokens) == (9, ANSWER_TOKENS)


def test_max_tokens_cuts_the_answer(anthropic):
    message = anthropic.messages.create(model=MODEL, max_tokens=4, messages=ask("Say a lot"))

    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == expected_answer(MODEL, "Say a lot", 4)
    assert message.usage.output_tokens == 4


def test_a_stop_sequence_ends_the_answer_and_is_named(anthropic):
    full = expected_answer(MODEL, "Stop early", ANSWER_TOKENS).split()
    sequence = full[3]
    message = anthropic.messages.create(
        model=MODEL, max_tokens=100, messages=ask("Stop early"), stop_sequences=["zzz", sequence]
    )

    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", sequence)
    kept = message.content[0].text.split()
    assert kept == full[: full.index(sequence)]
    assert message.usage.output_tokens == len(kept)


def test_a_stream_through_the_sdk_gives_the_same_text_and_the_final_usage(anthropic):
    with anthropic.messages.stream(
        model=MODEL, max_tokens=100, messages=ask("Name a river")
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) == ANSWER_TOKENS
    assert "".join(pieces) == expected_answer(MODEL, "Name a river", ANSWER_TOKENS)
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (3, ANSWER_TOKENS)


def test_the_stream_is_anthropics_event_sequence(simulator_url):
    body = {"model": MODEL, "max_tokens": 3, "messages": ask("One two"), "stream": True}
    events = raw_events(simulator_url, body)

    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert (start["role"], start["model"], start["content"]) == ("assistant", MODEL, [])
    assert start["usage"]["input_tokens"] == 2
    assert events[1][1]["content_block"] == {"type": "text", "text": ""}
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert {delta["type"] for delta in deltas} == {"text_delta"}
    assert "".join(d["text"] for d in deltas) == expected_answer(MODEL, "One two", 3)
    end = events[-2][1]
    assert end["delta"] == {"stop_reason": "max_tokens", "stop_sequence": None}
    assert end["usage"] == {"output_tokens": 3}


def test_a_good_key_is_recorded_by_fingerprint_and_a_wrong_one_is_refused(simulator_url):
    anthropic_client(simulator_url, "sk-sim-anthropic-alice").messages.create(
        model=MODEL, max_tokens=2, messages=ask("hi")
    )
    records = httpx.get(f"{simulator_url}/sim/requests", params={"limit": 5}).json()["requests"]
    newest = records[0]
    assert (newest["method"], newest["path"]) == ("POST", "/v1/messages")
    assert newest["keyKind"] == "bearer"  # how the SDK sends an API key since 2.0
    assert newest["keyFingerprint"] == fingerprint("sk-sim-anthropic-alice")
    assert newest["accepted"] is True

    with pytest.raises(sdk.AuthenticationError) as refused:
        anthropic_client(simulator_url, "sk-ant-not-valid").messages.create(
            model=MODEL, max_tokens=2, messages=ask("hi")
        )
    assert refused.value.status_code == 401
    assert refused.value.body["type"] == "error"
    assert refused.value.body["error"]["type"] == "authentication_error"
    records = httpx.get(f"{simulator_url}/sim/requests", params={"limit": 1}).json()["requests"]
    assert records[0]["keyFingerprint"] == fingerprint("sk-ant-not-valid")
    assert records[0]["accepted"] is False


def test_an_x_api_key_is_checked_too(simulator_url):
    body = {"model": MODEL, "max_tokens": 2, "messages": ask("hi")}
    good = httpx.post(f"{simulator_url}/v1/messages", json=body, headers=HEADERS)
    assert good.status_code == 200
    records = httpx.get(f"{simulator_url}/sim/requests", params={"limit": 1}).json()["requests"]
    assert (records[0]["keyKind"], records[0]["keyFingerprint"]) == (
        "x-api-key",
        fingerprint(ANTHROPIC_KEY),
    )
    bad = httpx.post(
        f"{simulator_url}/v1/messages", json=body, headers={**HEADERS, "x-api-key": "sk-ant-bad"}
    )
    assert bad.status_code == 401
    assert bad.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }


def test_requests_anthropic_refuses_are_invalid_request_errors(simulator_url):
    no_version = httpx.post(
        f"{simulator_url}/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": ask("hi")},
        headers={"x-api-key": ANTHROPIC_KEY},
    )
    assert no_version.status_code == 400
    assert no_version.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    no_max_tokens = httpx.post(
        f"{simulator_url}/v1/messages",
        json={"model": MODEL, "messages": ask("hi")},
        headers=HEADERS,
    )
    assert no_max_tokens.status_code == 400
    body = no_max_tokens.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]


def test_the_model_list_and_a_model_in_anthropics_shape(anthropic):
    listed = [model.id for model in anthropic.models.list()]
    assert MODEL in listed
    model = anthropic.models.retrieve(MODEL)
    assert (model.type, model.id) == ("model", MODEL)
    with pytest.raises(sdk.NotFoundError) as missing:
        anthropic.models.retrieve("claude-no-such-model")
    assert missing.value.body["error"]["type"] == "not_found_error"


# Faults, as the SDK sees them.


def test_throttle_is_a_rate_limit_error_with_retry_after(anthropic):
    with pytest.raises(sdk.RateLimitError) as raised:
        anthropic.messages.create(model=MODEL, max_tokens=5, messages=ask("hi [[sim:throttle]]"))
    assert raised.value.response.headers["retry-after"] == "1"
    assert raised.value.body["error"]["type"] == "rate_limit_error"


def test_fail_is_an_api_error_before_any_event(anthropic):
    with pytest.raises(sdk.InternalServerError) as raised:
        anthropic.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=ask("hi"),
            stream=True,
            extra_headers={"x-sim-fault": "fail"},
        )
    assert raised.value.body["error"]["type"] == "api_error"


def test_an_unknown_directive_is_a_bad_request(anthropic):
    with pytest.raises(sdk.BadRequestError):
        anthropic.messages.create(
            model=MODEL, max_tokens=5, messages=ask("hi"), extra_headers={"x-sim-fault": "boom"}
        )


def test_error_after_sends_an_error_event_after_n_tokens(anthropic):
    text = ""
    with pytest.raises(sdk.APIStatusError) as raised:
        with anthropic.messages.stream(
            model=MODEL, max_tokens=100, messages=ask("go [[sim:error-after=3]]")
        ) as stream:
            for piece in stream.text_stream:
                text += piece
    assert text == expected_answer(MODEL, "go [[sim:error-after=3]]", 3)
    assert raised.value.body["error"]["type"] == "api_error"


def test_error_after_without_streaming_is_a_500(anthropic):
    with pytest.raises(sdk.InternalServerError):
        anthropic.messages.create(
            model=MODEL, max_tokens=100, messages=ask("[[sim:error-after=2]]")
        )


def test_cut_after_drops_the_connection_without_message_stop(simulator_url):
    body = {
        "model": MODEL,
        "max_tokens": 100,
        "messages": ask("[[sim:cut-after=2]]"),
        "stream": True,
    }
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", f"{simulator_url}/v1/messages", json=body, headers=HEADERS) as r:
            for chunk in r.iter_bytes():
                received += chunk
    assert received.count(b"event: content_block_delta") == 2
    assert b"message_stop" not in received


def test_a_stall_ends_by_dropping_the_connection(simulator_url):
    client = anthropic_client(simulator_url, timeout=MAX_STALL_SECONDS + 5)
    # The SDK passes on its HTTP client's error for a stream cut short.
    with pytest.raises((sdk.APIConnectionError, httpx2.RemoteProtocolError)):
        with client.messages.stream(
            model=MODEL, max_tokens=100, messages=ask("[[sim:stall-after=1]]")
        ) as stream:
            list(stream.text_stream)


def test_an_unavailable_model_is_overloaded(conditions, anthropic):
    conditions.put(f"/sim/models/{MODEL}", json={"available": False}).raise_for_status()
    with pytest.raises(sdk.APIStatusError) as raised:
        anthropic.messages.create(model=MODEL, max_tokens=5, messages=ask("hi"))
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"
    assert MODEL not in [model.id for model in anthropic.models.list()]
