"""`/v1/chat/completions` takes bounded input of the types OpenAI documents: too many messages
or too much text is 413, a wrong JSON type 422, each in the error envelope, and nothing is
asked of the model or charged for a refused request."""

import openai
import pytest
from openai import AsyncOpenAI

from chat.config import ChatSettings

from ..conftest import HAIKU, balance, bearer, funded_user

DEFAULTS = ChatSettings.model_fields


def say(text: str, role: str = "user") -> dict:
    return {"role": role, "content": text}


async def complete(http, stack, caller, **body):
    return await http.post(
        f"{stack.chat}/v1/chat/completions",
        json={"model": HAIKU, **body},
        headers=bearer(caller["token"]),
    )


async def test_more_messages_than_allowed_is_413(http, stack):
    user = await funded_user(http, stack)
    before = await balance(http, stack, user)
    limit = DEFAULTS["max_completion_messages"].default
    conversation = [say(f"q{n}", "user" if n % 2 == 0 else "assistant") for n in range(limit)]
    response = await complete(http, stack, user, messages=[*conversation, say("and?")])
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    assert f"limit is {limit}" in response.json()["message"]
    assert await balance(http, stack, user) == before
    # As many as allowed is fine.
    allowed = await complete(http, stack, user, messages=[*conversation[1:], say("and?")])
    assert allowed.status_code == 200, allowed.text


async def test_more_text_than_allowed_is_413_though_each_message_is_short_enough(http, stack):
    user = await funded_user(http, stack)
    before = await balance(http, stack, user)
    each = DEFAULTS["max_message_chars"].default
    total = DEFAULTS["max_conversation_chars"].default
    count = total // each + 1
    messages = [say("x" * each, "user" if n % 2 == 0 else "assistant") for n in range(count)]
    messages[0] = say("x" * each, "system")  # the system prompt counts too
    if messages[-1]["role"] != "user":
        messages.append(say("x"))
    response = await complete(http, stack, user, messages=messages)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    # Text in content parts counts the same.
    parts = [{"type": "text", "text": "y" * each}] * (count)
    in_parts = await complete(http, stack, user, messages=[{"role": "user", "content": parts}])
    assert in_parts.status_code == 413, in_parts.text
    assert await balance(http, stack, user) == before


async def test_the_last_message_is_held_to_the_message_limit(http, stack):
    user = await funded_user(http, stack)
    each = DEFAULTS["max_message_chars"].default
    response = await complete(http, stack, user, messages=[say("z" * (each + 1))])
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "field",
    [
        {"max_tokens": True},
        {"max_tokens": False},
        {"max_tokens": "100"},
        {"max_tokens": 1.5},
        {"max_tokens": 10**30},
        {"max_completion_tokens": True},
        {"temperature": "0.5"},
        {"temperature": True},
        {"temperature": 7},
        {"top_p": "1"},
        {"stream": "yes"},
        {"stream": 1},
        {"stream_options": {"include_usage": "true"}},
        {"n": 2},
        {"seed": "42"},
        {"stop": 5},
        {"messages": [{"role": "user", "content": 5}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}] * 65}]},
        {"messages": "hi"},
        {"messages": []},
        {"model": 7},
    ],
    ids=repr,
)
async def test_a_wrong_json_type_is_422_in_the_envelope(http, stack, field):
    user = await funded_user(http, stack)
    before = await balance(http, stack, user)
    response = await complete(http, stack, user, **{"messages": [say("hi")], **field})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error" and body["message"]
    assert await balance(http, stack, user) == before


async def test_openai_clients_get_a_json_error_they_can_read(http, stack):
    user = await funded_user(http, stack)
    client = AsyncOpenAI(base_url=f"{stack.chat}/v1", api_key=user["token"], max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        await client.chat.completions.create(model=HAIKU, messages=[say("hi")], temperature="hot")
    assert refused.value.body["code"] == "validation_error"
    await client.close()


async def test_the_sampling_knobs_openai_clients_send_are_accepted(http, stack):
    caller = await funded_user(http, stack)
    response = await complete(
        http,
        stack,
        caller,
        messages=[say("Be brief.", "system"), say("hi")],
        temperature=0,
        top_p=1,
        n=1,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        seed=7,
        stop=["\n\n"],
        user="someone",
        logprobs=False,  # not used here: accepted and ignored
        max_tokens=50,
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]


async def test_a_number_too_long_to_read_is_a_4xx_in_the_envelope(http, stack):
    user = await funded_user(http, stack)
    raw = '{"model": "%s", "messages": [{"role": "user", "content": "hi"}], "max_tokens": %s}'
    response = await http.post(
        f"{stack.chat}/v1/chat/completions",
        content=raw % (HAIKU, "9" * 5000),
        headers={**bearer(user["token"]), "Content-Type": "application/json"},
    )
    # FastAPI's own answer to a body json cannot read (past Python's int conversion limit).
    assert (response.status_code, response.json()["code"]) == (400, "bad_request")


async def test_blank_turns_are_left_out_and_a_blank_last_message_is_400(http, stack):
    # Blank turns reached the model, which refuses them (as Bedrock does): 502 provider_error.
    # Found by the end-to-end schemathesis suite.
    user = await funded_user(http, stack)
    before = await balance(http, stack, user)
    last = await complete(http, stack, user, messages=[say("\u001d")])
    assert (last.status_code, last.json()["code"]) == (400, "invalid_request"), last.text
    assert await balance(http, stack, user) == before
    earlier = [say("  ", "system"), say("a"), say(" ", "assistant"), say("b")]
    answered = await complete(http, stack, user, messages=earlier)
    assert answered.status_code == 200, answered.text
