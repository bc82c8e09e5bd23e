import time

import httpx
import openai as sdk
import pytest

from model_simulator.generation import expected_answer

from ..conftest import MAX_STALL_SECONDS, openai_client

pytestmark = pytest.mark.timeout(20)

MODEL = "gpt-4o-mini"


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def stream_until_failure(stream) -> tuple[str, Exception]:
    text = ""
    try:
        with stream:
            for chunk in stream:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
    except Exception as exc:
        return text, exc
    raise AssertionError(f"the stream ended normally after {text!r}")


def test_throttle_is_a_rate_limit_error(openai):
    with pytest.raises(sdk.RateLimitError) as raised:
        openai.chat.completions.create(model=MODEL, messages=ask("hi [[sim:throttle]]"))

    assert raised.value.status_code == 429
    assert raised.value.body["code"] == "rate_limit_exceeded"


def test_fail_from_the_header_is_a_server_error_before_any_token(openai):
    with pytest.raises(sdk.InternalServerError) as raised:
        openai.chat.completions.create(
            model=MODEL, messages=ask("hi"), stream=True, extra_headers={"x-sim-fault": "fail"}
        )

    assert isinstance(raised.value, sdk.APIStatusError)
    assert raised.value.status_code == 500


def test_an_unknown_directive_is_a_bad_request(openai):
    with pytest.raises(sdk.BadRequestError):
        openai.chat.completions.create(
            model=MODEL, messages=ask("hi"), extra_headers={"x-sim-fault": "explode"}
        )


def test_error_after_sends_an_error_event_after_n_tokens(openai):
    prompt = "go [[sim:error-after=3]]"
    stream = openai.chat.completions.create(model=MODEL, messages=ask(prompt), stream=True)

    text, error = stream_until_failure(stream)

    assert text == expected_answer(MODEL, prompt, 3)
    assert type(error) is sdk.APIError
    assert error.body["type"] == "server_error"


def test_cut_after_drops_the_connection_without_done(openai, simulator_url):
    prompt = "go [[sim:cut-after=5]]"
    stream = openai.chat.completions.create(model=MODEL, messages=ask(prompt), stream=True)

    text, error = stream_until_failure(stream)

    assert text == expected_answer(MODEL, prompt, 5)
    assert isinstance(error, sdk.APIConnectionError)

    body = {"model": MODEL, "messages": ask(prompt), "stream": True}
    lines = []
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", f"{simulator_url}/v1/chat/completions", json=body) as response:
            lines.extend(response.iter_lines())
    assert "data: [DONE]" not in lines


def test_a_stall_runs_into_the_clients_timeout(simulator_url):
    client = openai_client(simulator_url, timeout=0.3)
    started = time.monotonic()
    stream = client.chat.completions.create(
        model=MODEL, messages=ask("go [[sim:stall-after=1]]"), stream=True
    )

    text, error = stream_until_failure(stream)

    assert text == expected_answer(MODEL, "go [[sim:stall-after=1]]", 1)
    assert isinstance(error, sdk.APITimeoutError)
    assert 0.3 <= time.monotonic() - started < MAX_STALL_SECONDS
    client.close()


def test_a_stall_without_streaming_is_bounded_by_max_stall_seconds(openai):
    started = time.monotonic()

    with pytest.raises(sdk.APIConnectionError):
        openai.chat.completions.create(model=MODEL, messages=ask("go [[sim:stall]]"))

    assert MAX_STALL_SECONDS <= time.monotonic() - started < MAX_STALL_SECONDS + 2


def in_flight(simulator_url: str) -> float:
    metrics = httpx.get(f"{simulator_url}/metrics").text
    (line,) = [
        x for x in metrics.splitlines() if x.startswith("model_simulator_responses_in_flight")
    ]
    return float(line.split()[1])


def test_a_client_that_leaves_stops_its_stalled_answer(openai, simulator_url):
    before = in_flight(simulator_url)
    stream = openai.chat.completions.create(
        model=MODEL, messages=ask("go [[sim:stall]]"), stream=True
    )
    assert in_flight(simulator_url) == before + 1

    stream.close()

    deadline = time.monotonic() + MAX_STALL_SECONDS / 2
    while in_flight(simulator_url) > before:
        assert time.monotonic() < deadline, "the stalled answer outlived its client"
        time.sleep(0.02)
