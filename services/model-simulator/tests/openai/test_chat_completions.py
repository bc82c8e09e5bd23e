import httpx
import pytest

from model_simulator.generation import expected_answer

from ..conftest import ANSWER_TOKENS

pytestmark = pytest.mark.timeout(20)

MODEL = "gpt-4o-mini"


def test_a_completion_answers_the_deterministic_text_with_its_usage(openai):
    completion = openai.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name a river"},
        ],
    )

    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == expected_answer(MODEL, "Name a river", ANSWER_TOKENS)
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 3 + 3
    assert completion.usage.completion_tokens == ANSWER_TOKENS
    assert completion.usage.total_tokens == 6 + ANSWER_TOKENS


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
def test_both_token_limits_cut_the_answer_with_finish_reason_length(openai, limit):
    completion = openai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say a lot"}], **{limit: 4}
    )

    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == expected_answer(MODEL, "Say a lot", 4)
    assert completion.usage.completion_tokens == 4


def test_text_parts_are_read_like_a_string(openai):
    completion = openai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": [{"type": "text", "text": "Hi you"}]}]
    )

    assert completion.choices[0].message.content == expected_answer(MODEL, "Hi you", ANSWER_TOKENS)


def test_a_stream_gives_the_same_text_and_a_final_usage_chunk(openai):
    stream = openai.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Name a river"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == expected_answer(MODEL, "Name a river", ANSWER_TOKENS)
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "stop" and finish.usage is None
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (3, ANSWER_TOKENS)
    assert last.usage.total_tokens == 3 + ANSWER_TOKENS


def test_a_stream_without_include_usage_has_no_usage_chunk(openai):
    stream = openai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True, max_tokens=2
    )
    chunks = list(stream)

    assert all(chunk.choices for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "length"
    assert sum(1 for c in chunks if c.choices[0].delta.content) == 2


def test_the_raw_stream_is_server_sent_events_ending_with_done(simulator_url):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
    with httpx.stream("POST", f"{simulator_url}/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]

    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"


def test_models_lists_the_configured_ids(openai):
    ids = [model.id for model in openai.models.list()]

    assert "anthropic.claude-3-haiku-20240307-v1:0" in ids and MODEL in ids
    assert openai.models.retrieve(MODEL).id == MODEL


def test_an_invalid_request_is_an_openai_bad_request(openai):
    import openai as sdk

    with pytest.raises(sdk.BadRequestError) as raised:
        openai.chat.completions.create(model=MODEL, messages=[])

    assert raised.value.body["type"] == "invalid_request_error"
    assert raised.value.body["param"] == "messages"
