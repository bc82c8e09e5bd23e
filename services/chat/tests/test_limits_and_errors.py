import asyncio
import uuid

from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from .conftest import (
    HAIKU,
    balance,
    bearer,
    funded_user,
    in_one_limit_window,
    login,
    new_session,
    read_events,
)


async def test_out_of_credits_is_402(http, stack):
    broke = await funded_user(http, stack, credits=0)
    response = await http.post(
        f"{stack.chat}/api/chat/sessions", json={"title": "x"}, headers=bearer(broke["token"])
    )
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_credits"
    poor = await funded_user(http, stack, credits="0.01")  # less than one answer's hold
    session = await new_session(http, stack, poor)
    streamed = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "hi"},
        headers=bearer(poor["token"]),
    )
    assert streamed.status_code == 402
    assert streamed.json()["message"] == "Insufficient credits"


async def test_past_the_request_limit_is_429(http, stack):
    settings = ChatSettings(**{**stack.settings, "requests_per_minute": 3})
    user = await funded_user(http, stack)
    async with serve_app(create_app(settings)) as limited:
        await in_one_limit_window()
        session = await new_session(http, stack, user, base=limited)  # the first of three
        statuses = []
        for _ in range(3):
            response = await http.post(
                f"{limited}/api/chat/sessions/{session}/messages",
                json={"message": "count me"},
                headers=bearer(user["token"]),
            )
            statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["code"] == "rate_limited"


async def test_past_the_limit_a_stream_is_429_but_a_resume_or_a_strangers_session_is_not(
    http, stack
):
    settings = ChatSettings(**{**stack.settings, "requests_per_minute": 2})
    user, stranger = await funded_user(http, stack), await funded_user(http, stack)
    async with serve_app(create_app(settings)) as limited:
        await in_one_limit_window()
        session = await new_session(http, stack, user, base=limited)  # the first of two
        theirs = await new_session(http, stack, stranger, base=limited)
        url = f"{limited}/api/chat/sessions/{session}/stream"
        first = await http.post(url, json={"message": "one"}, headers=bearer(user["token"]))
        second = await http.post(url, json={"message": "two"}, headers=bearer(user["token"]))
        resume = await http.post(
            url, headers={**bearer(user["token"]), "Last-Event-ID": f"{uuid.uuid4()}:3"}
        )
        strangers = await http.post(
            f"{limited}/api/chat/sessions/{theirs}/stream",
            json={"message": "three"},
            headers=bearer(user["token"]),
        )
    assert first.status_code == 200
    assert second.status_code == 429 and second.json()["code"] == "rate_limited"
    assert resume.status_code == 410  # resuming is not a new request: not counted, not refused
    assert strangers.status_code == 404  # the session's absence comes first, as for anyone


async def test_a_smaller_client_token_count_does_not_change_the_charge(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "bill me"},
        headers=bearer(user["token"]),
    ) as response:
        events = await read_events(response)
    charged = await balance(http, stack, user)
    claimed = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/update-stream",
        json={
            "completeResponse": "x",
            "streamingSessionId": events[0].data["streamingSessionId"],
            "tokensUsed": 1,
        },
        headers=bearer(user["token"]),
    )
    assert claimed.status_code == 200
    await asyncio.sleep(0.3)
    assert await balance(http, stack, user) == charged


async def test_unknown_and_forbidden_models_are_400_invalid_model(http, stack):
    user = await funded_user(http, stack)
    unknown = await http.post(
        f"{stack.chat}/api/chat/sessions",
        json={"modelId": "no-such-model"},
        headers=bearer(user["token"]),
    )
    forbidden = await http.post(
        f"{stack.chat}/api/chat/sessions",
        json={"modelId": "gpt-4o-mini"},  # supervisors and admins only
        headers=bearer(user["token"]),
    )
    assert unknown.status_code == forbidden.status_code == 400
    assert unknown.json()["code"] == forbidden.json()["code"] == "invalid_model"


async def test_another_users_session_is_404(http, stack):
    owner, other = await funded_user(http, stack), await funded_user(http, stack)
    session = await new_session(http, stack, owner)
    for method, path in (
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/messages"),
        ("POST", "/stream"),
    ):
        response = await http.request(
            method,
            f"{stack.chat}/api/chat/sessions/{session}{path}",
            json={"message": "hi"} if method == "POST" else None,
            headers=bearer(other["token"]),
        )
        assert response.status_code == 404, (method, path)
    missing = await http.get(
        f"{stack.chat}/api/chat/sessions/{uuid.uuid4()}", headers=bearer(owner["token"])
    )
    assert missing.status_code == 404


async def test_a_supervisor_may_read_any_session(http, stack):
    owner = await funded_user(http, stack)
    session = await new_session(http, stack, owner)
    supervisor = await login(http, stack, "supervisor1")
    response = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(supervisor)
    )
    assert response.status_code == 200
    assert response.json()["userId"] == owner["id"]


async def test_an_oversized_message_is_413_with_a_clear_message(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    response = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "x" * 40_000},
        headers=bearer(user["token"]),
    )
    assert response.status_code == 413
    assert "limit is 32,000" in response.json()["message"]


async def test_a_missing_message_is_422(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    response = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={},
        headers=bearer(user["token"]),
    )
    assert response.status_code == 422


async def test_a_blank_message_is_422_and_asks_no_model(http, stack):
    # A message of only whitespace reached the model, which refuses a blank turn (as Bedrock
    # does): 502 provider_error. Found by the end-to-end schemathesis suite.
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    base = f"{stack.chat}/api/chat/sessions/{session}"
    for blank in (" ", "\u001d", "\n\t"):
        for response in (
            await http.post(
                f"{base}/messages", json={"message": blank}, headers=bearer(user["token"])
            ),
            await http.post(
                f"{base}/stream", json={"message": blank}, headers=bearer(user["token"])
            ),
            await http.get(
                f"{base}/stream", params={"message": blank}, headers=bearer(user["token"])
            ),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "validation_error"
    assert await balance(http, stack, user) == before


async def test_accounting_unreachable_is_503_never_free_tokens(http, stack):
    settings = ChatSettings(**{**stack.settings, "accounting_url": "http://127.0.0.1:9"})
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    async with serve_app(create_app(settings)) as cut_off:
        response = await http.post(
            f"{cut_off}/api/chat/sessions/{session}/stream",
            json={"message": "free?"},
            headers=bearer(user["token"]),
        )
    assert response.status_code == 503
    assert response.json()["code"] == "accounting_unavailable"


async def test_sessions_list_newest_first_and_delete(http, stack):
    user = await funded_user(http, stack)
    first = await new_session(http, stack, user)
    second = await new_session(http, stack, user)
    listing = await http.get(
        f"{stack.chat}/api/chat/sessions?limit=10", headers=bearer(user["token"])
    )
    body = listing.json()
    assert [s["sessionId"] for s in body["sessions"]] == [second, first]
    assert body["pagination"] == {"page": 1, "limit": 10, "total": 2, "pages": 1}
    deleted = await http.delete(
        f"{stack.chat}/api/chat/sessions/{first}", headers=bearer(user["token"])
    )
    assert deleted.status_code == 200
    gone = await http.get(f"{stack.chat}/api/chat/sessions/{first}", headers=bearer(user["token"]))
    assert gone.status_code == 404


async def test_models_by_role_and_recommendation(http, stack):
    user = await funded_user(http, stack)
    models = await http.get(f"{stack.chat}/api/models", headers=bearer(user["token"]))
    ids = {m["id"] for m in models.json()["models"]}
    assert HAIKU in ids and "gpt-4o-mini" not in ids
    cheap = await http.post(
        f"{stack.chat}/api/models/recommend",
        json={"task": "summarize this report", "priority": "cost"},
        headers=bearer(user["token"]),
    )
    assert cheap.json()["recommendedModel"] == "amazon.titan-text-express-v1"
    best = await http.post(
        f"{stack.chat}/api/models/recommend",
        json={"task": "debug my python code", "priority": "quality"},
        headers=bearer(user["token"]),
    )
    assert best.json()["recommendedModel"] == "anthropic.claude-3-sonnet-20240229-v1:0"
    assert best.json()["reason"]
