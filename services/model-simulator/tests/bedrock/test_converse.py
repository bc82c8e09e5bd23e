import httpx
import pytest
from botocore.exceptions import ClientError

from model_simulator.generation import expected_answer

from ..conftest import ANSWER_TOKENS, HAIKU, user_turn

pytestmark = pytest.mark.timeout(20)


def test_converse_answers_the_deterministic_text_with_its_usage(bedrock):
    response = bedrock.converse(
        modelId=HAIKU,
        system=[{"text": "Be brief and kind."}],
        messages=user_turn("What is a river?"),
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": expected_answer(HAIKU, "What is a river?", ANSWER_TOKENS)}],
    }
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {
        "inputTokens": 4 + 4,  # the system prompt counts, word by word, like the messages
        "outputTokens": ANSWER_TOKENS,
        "totalTokens": 8 + ANSWER_TOKENS,
    }
    assert response["metrics"]["latencyMs"] >= 0


def test_the_answer_depends_on_the_last_user_message_and_the_model(bedrock):
    history = [
        *user_turn("first question"),
        {"role": "assistant", "content": [{"text": "an answer"}]},
        *user_turn("second question"),
    ]
    titan = "amazon.titan-text-express-v1"

    on_haiku = bedrock.converse(modelId=HAIKU, messages=history)
    on_titan = bedrock.converse(modelId=titan, messages=history)

    haiku_text = on_haiku["output"]["message"]["content"][0]["text"]
    assert haiku_text == expected_answer(HAIKU, "second question", ANSWER_TOKENS)
    assert on_titan["output"]["message"]["content"][0]["text"] != haiku_text
    assert on_haiku["usage"]["inputTokens"] == 2 + 2 + 2


def test_max_tokens_cuts_the_answer_and_says_so(bedrock):
    response = bedrock.converse(
        modelId=HAIKU, messages=user_turn("short please"), inferenceConfig={"maxTokens": 5}
    )

    assert response["stopReason"] == "max_tokens"
    assert response["output"]["message"]["content"][0]["text"] == expected_answer(
        HAIKU, "short please", 5
    )
    assert response["usage"]["outputTokens"] == 5


def test_a_stop_sequence_ends_the_answer_before_it(bedrock):
    full = expected_answer(HAIKU, "stop early", ANSWER_TOKENS)
    stop = " " + full.split()[4]

    response = bedrock.converse(
        modelId=HAIKU, messages=user_turn("stop early"), inferenceConfig={"stopSequences": [stop]}
    )

    text = response["output"]["message"]["content"][0]["text"]
    assert response["stopReason"] == "stop_sequence"
    assert full.startswith(text) and stop not in text
    assert full[len(text) :].startswith(stop)
    assert response["usage"]["outputTokens"] == len(text.split())


def test_converse_stream_sends_bedrock_events_in_order(bedrock):
    response = bedrock.converse_stream(
        modelId=HAIKU, messages=user_turn("Tell me a story"), inferenceConfig={"maxTokens": 100}
    )
    events = list(response["stream"])

    kinds = [next(iter(event)) for event in events]
    assert kinds == [
        "messageStart",
        *["contentBlockDelta"] * ANSWER_TOKENS,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0]["messageStart"] == {"role": "assistant"}
    deltas = [event["contentBlockDelta"] for event in events[1 : ANSWER_TOKENS + 1]]
    assert {delta["contentBlockIndex"] for delta in deltas} == {0}
    text = "".join(delta["delta"]["text"] for delta in deltas)
    assert text == expected_answer(HAIKU, "Tell me a story", ANSWER_TOKENS)
    assert events[-3]["contentBlockStop"] == {"contentBlockIndex": 0}
    assert events[-2]["messageStop"] == {"stopReason": "end_turn"}
    metadata = events[-1]["metadata"]
    assert metadata["usage"] == {
        "inputTokens": 4,
        "outputTokens": ANSWER_TOKENS,
        "totalTokens": 4 + ANSWER_TOKENS,
    }
    assert metadata["metrics"]["latencyMs"] >= 0


def test_converse_stream_honours_max_tokens(bedrock):
    response = bedrock.converse_stream(
        modelId=HAIKU, messages=user_turn("Tell me a story"), inferenceConfig={"maxTokens": 3}
    )
    events = list(response["stream"])

    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert text == expected_answer(HAIKU, "Tell me a story", 3)
    assert events[-2]["messageStop"] == {"stopReason": "max_tokens"}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 3


def test_a_model_arn_with_slashes_reaches_the_route(bedrock):
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku"

    response = bedrock.converse(modelId=arn, messages=user_turn("hello"))

    text = response["output"]["message"]["content"][0]["text"]
    assert text == expected_answer(arn, "hello", ANSWER_TOKENS)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"role": "assistant", "content": [{"text": "hi"}]}], "must start with a user message"),
        ([*user_turn("a"), *user_turn("b")], "must alternate between user and assistant"),
        (user_turn("  "), "is blank"),
    ],
)
def test_conversations_bedrock_refuses_are_refused(bedrock, messages, expected):
    with pytest.raises(bedrock.exceptions.ValidationException) as raised:
        bedrock.converse(modelId=HAIKU, messages=messages)

    assert expected in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_invalid_body_is_a_validation_exception(simulator_url):
    response = httpx.post(
        f"{simulator_url}/model/{HAIKU}/converse",
        json={"messages": user_turn("hi"), "inferenceConfig": {"temperature": 7}},
    )

    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    assert "inferenceConfig.temperature" in response.json()["message"]


def test_any_signature_is_accepted_and_errors_are_client_errors(bedrock):
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId=HAIKU, messages=user_turn("hi [[sim:no-such-thing]]"))

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "no-such-thing" in raised.value.response["Error"]["Message"]
