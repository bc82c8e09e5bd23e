import asyncio
from decimal import Decimal

from prometheus_client import REGISTRY

from chat.streaming.production.producer import TOKENS_COUNTED_EVERY
from model_simulator.generation.text import count_tokens, expected_answer

from ..conftest import (
    ANSWER_TOKENS,
    HAIKU,
    balance,
    bearer,
    funded_user,
    login,
    new_session,
    read_events,
    streamed_answer,
    text_of,
)


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    """Haiku's price: 0.25 credits per 1K input tokens, 1.25 per 1K output tokens."""
    micro = -(-input_tokens * 250_000 // 1000) + -(-output_tokens * 1_250_000 // 1000)
    return Decimal(micro) / 1_000_000


async def test_a_full_stream_through_boto3_is_metered_to_the_token(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "Tell me about otters"},
        headers=bearer(user["token"]),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await read_events(response)
    names = [e.event for e in events]
    assert names[0] == "model" and names[-1] == "complete"
    assert set(names[1:-1]) == {"chunk"}
    assert text_of(events) == expected_answer(HAIKU, "Tell me about otters", ANSWER_TOKENS)
    assert [e.data["tokenCount"] for e in events if e.event == "chunk"] == list(range(1, 31))
    assert all(e.id for e in events)
    complete = events[-1].data
    input_tokens = len("Tell me about otters".split())
    assert complete["tokensUsed"] == input_tokens + ANSWER_TOKENS
    assert Decimal(str(complete["creditsUsed"])) == cost(input_tokens, ANSWER_TOKENS)
    after = await balance(http, stack, user)
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
    assert spent == cost(input_tokens, ANSWER_TOKENS)
    assert after["reservedCredits"] == 0
    stored = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(user["token"])
    )
    messages = stored.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"] == text_of(events)
    assert messages[1]["status"] == "complete"


def tokens_streamed() -> float:
    return REGISTRY.get_sample_value("chat_tokens_streamed_total", {"model": HAIKU}) or 0.0


async def test_every_streamed_token_is_counted_once_the_answer_ends(http, stack):
    """The counter is added to in steps of TOKENS_COUNTED_EVERY; the rest at the end."""
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    before = tokens_streamed()
    events = await streamed_answer(http, stack, user, session, "Count these")
    assert events[-1].event == "complete"
    assert ANSWER_TOKENS % TOKENS_COUNTED_EVERY  # the answer ends between two steps
    assert tokens_streamed() - before == ANSWER_TOKENS


async def test_a_full_stream_through_the_openai_compatible_path(http, stack):
    token = await login(http, stack, "supervisor1")
    admin = await login(http, stack, "admin")
    await http.post(
        f"{stack.accounting}/api/credits/allocate",
        json={"targetUserId": "supervisor1", "credits": 50},
        headers=bearer(admin),
    )
    supervisor = {"token": token}
    session = await new_session(http, stack, supervisor, model_id="gpt-4o-mini")
    async with http.stream(
        "GET",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        params={"message": "hello there"},
        headers=bearer(token),
    ) as response:
        events = await read_events(response)
    assert events[0].data["modelId"] == "gpt-4o-mini"
    assert text_of(events) == expected_answer("gpt-4o-mini", "hello there", ANSWER_TOKENS)
    assert events[-1].event == "complete"
    assert events[-1].data["tokensUsed"] == 2 + ANSWER_TOKENS


async def test_the_whole_answer_at_once(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    response = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/messages",
        json={"message": "one two three"},
        headers=bearer(user["token"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"] == expected_answer(HAIKU, "one two three", ANSWER_TOKENS)
    assert body["tokensUsed"] == 3 + ANSWER_TOKENS


async def test_a_disconnect_mid_stream_charges_only_what_was_generated(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    prompt = "slowly please [[sim:tokens-per-second=20]] [[sim:answer-tokens=200]]"
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": prompt},
        headers=bearer(user["token"]),
    ) as response:
        seen = await read_events(response, stop_after=6)
    assert [e.event for e in seen][:2] == ["model", "chunk"]

    async def stored_answer():
        detail = await http.get(
            f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(user["token"])
        )
        messages = detail.json()["messages"]
        return messages[1] if len(messages) > 1 else None

    answer = None
    for _ in range(100):  # grace (2 s) + cancellation
        answer = await stored_answer()
        if answer:
            break
        await asyncio.sleep(0.1)
    assert answer is not None and answer["status"] == "interrupted"
    generated = len(answer["content"].split())
    assert 5 <= generated < 200  # cut well before the 200-token answer
    for _ in range(50):  # the answer is stored first, then accounting settles it
        after = await balance(http, stack, user)
        if after["reservedCredits"] == 0:
            break
        await asyncio.sleep(0.1)
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
    input_estimate = -(-len(prompt) // 4)
    assert spent == cost(input_estimate, generated)
    assert after["reservedCredits"] == 0


async def test_a_reconnect_with_last_event_id_resumes_without_gap_or_duplicate(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    prompt = "resume me [[sim:tokens-per-second=40]] [[sim:answer-tokens=40]]"
    url = f"{stack.chat}/api/chat/sessions/{session}/stream"
    async with http.stream(
        "POST", url, json={"message": prompt}, headers=bearer(user["token"])
    ) as response:
        first = await read_events(response, stop_after=5)
    last_id = first[-1].id
    async with http.stream(
        "GET", url, headers={**bearer(user["token"]), "Last-Event-ID": last_id}
    ) as response:
        assert response.status_code == 200
        rest = await read_events(response)
    events = first + rest
    seqs = [int(e.id.rsplit(":", 1)[1]) for e in events]
    assert seqs == list(range(1, len(events) + 1))
    assert text_of(events) == expected_answer(HAIKU, prompt, 40)
    assert events[-1].event == "complete"


async def test_resuming_an_unknown_stream_is_410(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    response = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        headers={
            **bearer(user["token"]),
            "Last-Event-ID": "00000000-0000-4000-8000-000000000000:3",
        },
    )
    assert response.status_code == 410
    assert response.json()["code"] == "stream_expired"


async def test_a_model_failure_is_an_error_event_and_costs_nothing(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "break [[sim:fail]]"},
        headers=bearer(user["token"]),
    ) as response:
        events = await read_events(response)
    assert events[-1].event == "error"
    assert events[-1].data["code"] in ("provider_error", "provider_unavailable")
    await asyncio.sleep(0.2)
    after = await balance(http, stack, user)
    assert after["totalCredits"] == before["totalCredits"]
    assert after["reservedCredits"] == 0


async def test_a_later_message_sends_the_conversation_so_far_and_the_first_sends_none(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    first, second = "Tell me about otters", "And about beavers"
    completes = []
    for message in (first, second):
        async with http.stream(
            "POST",
            f"{stack.chat}/api/chat/sessions/{session}/stream",
            json={"message": message},
            headers=bearer(user["token"]),
        ) as response:
            events = await read_events(response)
        assert events[-1].event == "complete"
        completes.append((events[-1].data, text_of(events)))
    (opening, answer), (follow_up, _) = completes
    # The simulator counts a token per word of every message it is sent.
    assert opening["inputTokens"] == count_tokens(first)
    assert follow_up["inputTokens"] == (
        count_tokens(first) + count_tokens(answer) + count_tokens(second)
    )
    # Both exchanges counted on the session, question and answer alike.
    stored = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(user["token"])
    )
    assert stored.json()["messageCount"] == len(stored.json()["messages"]) == 4


async def test_a_message_sent_while_the_first_answer_streams_gets_the_history(http, stack):
    user = await funded_user(http, stack, 100)
    session = await new_session(http, stack, user)
    first = "Keep talking [[sim:tokens-per-second=20]] [[sim:answer-tokens=30]]"
    url = f"{stack.chat}/api/chat/sessions/{session}/stream"
    headers = bearer(user["token"])
    async with http.stream("POST", url, json={"message": first}, headers=headers) as streaming:
        await read_events(streaming, stop_after=2)  # the first answer is under way
        async with http.stream(
            "POST", url, json={"message": "meanwhile"}, headers=headers
        ) as second:
            meanwhile = await read_events(second)
        await read_events(streaming)
    assert meanwhile[-1].event == "complete"
    # The first question, stored and counted before its answer ends, went as context.
    assert meanwhile[-1].data["inputTokens"] > count_tokens("meanwhile")
