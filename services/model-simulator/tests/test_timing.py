import time

import pytest

from model_simulator.generation import expected_answer

from .conftest import HAIKU, user_turn

pytestmark = pytest.mark.timeout(20)

SLACK = 1.5  # generous: a loaded CI machine is slow, never fast


def test_the_first_token_waits_the_first_token_delay(openai):
    started = time.monotonic()
    stream = openai.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_headers={"x-sim-first-token-delay-ms": "300", "x-sim-answer-tokens": "3"},
    )
    first_token_at = None
    with stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and first_token_at is None:
                first_token_at = time.monotonic() - started

    assert 0.3 <= first_token_at < 0.3 + SLACK


def test_tokens_come_at_the_configured_rate(openai):
    arrivals = []
    stream = openai.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_headers={"x-sim-tokens-per-second": "40", "x-sim-answer-tokens": "9"},
    )
    with stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.monotonic())

    assert len(arrivals) == 9
    # 8 intervals at 40 tokens/s; a little under for the clock, never much under.
    assert 8 / 40 - 0.02 <= arrivals[-1] - arrivals[0] < 8 / 40 + SLACK


def test_markers_set_the_pace_for_boto3(bedrock):
    prompt = "hi [[sim:first-token-delay-ms=300]] [[sim:answer-tokens=4]]"
    started = time.monotonic()
    response = bedrock.converse_stream(modelId=HAIKU, messages=user_turn(prompt))
    first_delta_at = None
    text = ""
    for event in response["stream"]:
        if "contentBlockDelta" in event:
            first_delta_at = first_delta_at or time.monotonic() - started
            text += event["contentBlockDelta"]["delta"]["text"]

    assert 0.3 <= first_delta_at < 0.3 + SLACK
    assert text == expected_answer(HAIKU, prompt, 4)


def test_a_whole_answer_waits_for_its_last_token(bedrock):
    prompt = (
        "hi [[sim:first-token-delay-ms=200]] [[sim:tokens-per-second=50]] [[sim:answer-tokens=6]]"
    )
    started = time.monotonic()

    response = bedrock.converse(modelId=HAIKU, messages=user_turn(prompt))

    elapsed = time.monotonic() - started
    assert 0.2 + 5 / 50 <= elapsed < 0.3 + SLACK
    assert response["metrics"]["latencyMs"] >= 300
