"""Every chat write counts against the per-user request limit, session creation included; no
write sidesteps it. Resuming a stream stays free (tests/test_limits_and_errors.py)."""

import pytest

from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from ..conftest import HAIKU, bearer, funded_user, in_one_limit_window, new_session, read_events


async def test_twenty_rapid_session_creations_end_in_429_with_retry_after(http, stack):
    """The seed guide's TC-14, under the default settings (the stack sets no limit)."""
    assert not {"requests_per_minute", "session_creates_per_minute"} & set(stack.settings)
    user = await funded_user(http, stack)
    await in_one_limit_window()
    responses = [
        await http.post(
            f"{stack.chat}/api/chat/sessions",
            json={"title": f"burst {n}", "modelId": HAIKU},
            headers=bearer(user["token"]),
        )
        for n in range(20)
    ]
    statuses = [r.status_code for r in responses]
    assert statuses[-1] == 429, statuses
    allowed = ChatSettings.model_fields["session_creates_per_minute"].default
    assert statuses == [201] * allowed + [429] * (20 - allowed)
    refused = responses[-1]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Only the sessions allowed were made.
    listing = await http.get(
        f"{stack.chat}/api/chat/sessions?limit=100", headers=bearer(user["token"])
    )
    assert listing.json()["pagination"]["total"] == allowed


def writes(base: str, session: str) -> dict:
    """One request of each kind of chat write (the session is the user's own)."""
    on = f"{base}/api/chat/sessions/{session}"
    completion = {"model": HAIKU, "messages": [{"role": "user", "content": "hi"}]}
    return {
        "create a session": ("POST", f"{base}/api/chat/sessions", {"json": {"title": "t"}}),
        "delete a session": ("DELETE", on, {}),
        "send a message": ("POST", f"{on}/messages", {"json": {"message": "hi"}}),
        "POST a new stream": ("POST", f"{on}/stream", {"json": {"message": "hi"}}),
        "GET a new stream": ("GET", f"{on}/stream", {"params": {"message": "hi"}}),
        "update-stream": ("POST", f"{on}/update-stream", {"json": {"tokensUsed": 1}}),
        "an OpenAI completion": ("POST", f"{base}/v1/chat/completions", {"json": completion}),
    }


@pytest.mark.parametrize("write", list(writes("", "")))
async def test_every_chat_write_counts_against_the_request_limit(http, stack, write):
    """With a limit of two: the session's creation and the write under test pass, and then
    even an OpenAI completion (which needs no session) is refused."""
    settings = ChatSettings(**{**stack.settings, "requests_per_minute": 2})
    user = await funded_user(http, stack)
    headers = bearer(user["token"])
    async with serve_app(create_app(settings)) as limited:
        await in_one_limit_window()
        session = await new_session(http, stack, user, base=limited)
        method, url, kwargs = writes(limited, session)[write]
        async with http.stream(method, url, headers=headers, **kwargs) as response:
            assert response.status_code in (200, 201), await response.aread()
            if response.headers["content-type"].startswith("text/event-stream"):
                assert (await read_events(response))[-1].event == "complete"
        method, url, kwargs = writes(limited, session)["an OpenAI completion"]
        refused = await http.request(method, url, headers=headers, **kwargs)
    assert refused.status_code == 429, (write, refused.text)
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


async def test_past_the_limit_each_write_is_429_and_does_nothing(http, stack):
    settings = ChatSettings(**{**stack.settings, "requests_per_minute": 1})
    user = await funded_user(http, stack)
    headers = bearer(user["token"])
    async with serve_app(create_app(settings)) as limited:
        await in_one_limit_window()
        session = await new_session(http, stack, user, base=limited)  # the only one allowed
        refused = {
            name: await http.request(method, url, headers=headers, **kwargs)
            for name, (method, url, kwargs) in writes(limited, session).items()
        }
        detail = await http.get(f"{limited}/api/chat/sessions/{session}", headers=headers)
    assert {name: r.status_code for name, r in refused.items()} == {name: 429 for name in refused}
    assert all(r.json()["code"] == "rate_limited" for r in refused.values())
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused.values())
    # Not deleted, nothing asked.
    assert detail.status_code == 200 and detail.json()["messages"] == []


async def test_the_session_limit_is_per_user_and_a_setting(http, stack):
    settings = ChatSettings(
        **{**stack.settings, "session_creates_per_minute": 2, "requests_per_minute": 100}
    )
    first, second = await funded_user(http, stack), await funded_user(http, stack)
    async with serve_app(create_app(settings)) as limited:
        await in_one_limit_window()
        statuses = {
            user["username"]: [
                (
                    await http.post(
                        f"{limited}/api/chat/sessions", json={}, headers=bearer(user["token"])
                    )
                ).status_code
                for _ in range(3)
            ]
            for user in (first, second)
        }
    assert statuses == {first["username"]: [201, 201, 429], second["username"]: [201, 201, 429]}
