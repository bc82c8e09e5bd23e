import asyncio

import pytest

from model_simulator.generation.text import expected_answer

from ..conftest import HAIKU, bearer, funded_user, login, new_session, read_events, text_of


@pytest.mark.parametrize(
    "observed_on",
    [
        pytest.param("chat_b", id="another replica (redis pub/sub)"),
        pytest.param("chat", id="the serving replica (straight from the producer)"),
    ],
)
async def test_a_supervisor_joining_late_sees_the_whole_answer_once(http, stack, observed_on):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    supervisor = await login(http, stack, "supervisor1")
    prompt = "watch this [[sim:tokens-per-second=30]] [[sim:answer-tokens=45]]"

    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",  # served by replica A
        json={"message": prompt},
        headers=bearer(user["token"]),
    ) as user_stream:
        early = await read_events(user_stream, stop_after=10)  # the supervisor joins late
        async with http.stream(
            "GET",
            f"{getattr(stack, observed_on)}/api/chat/sessions/{session}/observe",
            headers=bearer(supervisor),
        ) as observer_stream:
            assert observer_stream.status_code == 200
            observed_task = asyncio.create_task(read_events(observer_stream))
            rest = await read_events(user_stream)
            observed = await asyncio.wait_for(observed_task, 15)

    full = expected_answer(HAIKU, prompt, 45)
    assert text_of(early + rest) == full
    joined = observed[0]
    assert joined.event == "observer"
    assert joined.data["userId"] == user["id"]
    assert joined.data["modelId"] == HAIKU
    partial = joined.data["partialResponse"]
    assert partial and full.startswith(partial)
    # What was said before the supervisor joined, then every later chunk, once each.
    assert partial + text_of(observed[1:]) == full
    assert observed[-1].event == "complete"


async def test_active_streams_are_listed_across_replicas(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    supervisor = await login(http, stack, "supervisor1")
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "list me [[sim:tokens-per-second=20]] [[sim:answer-tokens=40]]"},
        headers=bearer(user["token"]),
    ) as response:
        await read_events(response, stop_after=3)
        listed = await http.get(
            f"{stack.chat_b}/api/chat/streams/active", headers=bearer(supervisor)
        )
        assert listed.status_code == 200
        streams = {s["sessionId"]: s for s in listed.json()["streams"]}
        assert streams[session]["userId"] == user["id"]
        assert streams[session]["username"] == user["username"]
        await read_events(response)


async def test_endusers_cannot_observe_or_list(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    observe = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}/observe", headers=bearer(user["token"])
    )
    listed = await http.get(f"{stack.chat}/api/chat/streams/active", headers=bearer(user["token"]))
    assert observe.status_code == listed.status_code == 403


async def test_an_observer_that_leaves_leaves_nothing_behind(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    supervisor = await login(http, stack, "supervisor1")
    hub = stack.chat_app.state.observers

    async with http.stream(
        "GET", f"{stack.chat}/api/chat/sessions/{session}/observe", headers=bearer(supervisor)
    ) as observer_stream:
        joined = await read_events(observer_stream, stop_after=1)
        assert joined[0].event == "observer"
        assert session in hub._queues
    for _ in range(100):  # the server notices the closed connection shortly after
        if session not in hub._queues and session not in hub._listening:
            break
        await asyncio.sleep(0.02)
    assert session not in hub._queues
    assert session not in hub._listening
