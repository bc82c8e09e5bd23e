"""A personal key's ``tokensPerMinute``: checked before an answer, counted (the tokens charged)
when it ends, per key and per one-minute window, in Redis."""

import logging
import time

import pytest
import redis.asyncio as redis

from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key
from auth.service_clients.registry import CLIENT_SCOPES
from chat.limits import token_limit
from chat.limits.token_limit import KeyTokenLimit, KeyTokenLimiter, key_token_limit
from jwt_contract import Principal

from ..conftest import HAIKU, bearer, funded_user, in_one_limit_window, new_session, read_events


def gateway_headers() -> dict[str, str]:
    """The gateway's token (signed with the development key), to exchange keys as it does."""
    defaults = AuthSettings(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    token, _ = signer.issue_service(
        service="gateway", scopes=sorted(CLIENT_SCOPES["gateway"]), ttl_seconds=3600
    )
    return bearer(token)


async def key_token(http, stack, user: dict, **limits) -> tuple[str, str]:
    """A personal key of ``user`` with ``limits``, exchanged: its id and its token."""
    created = await http.post(
        f"{stack.auth}/api/auth/api-keys",
        json={"name": "script", **limits},
        headers=bearer(user["token"]),
    )
    assert created.status_code == 201, created.text
    exchanged = await http.post(
        f"{stack.auth}/internal/api-keys/exchange",
        json={"apiKey": created.json()["key"]},
        headers=gateway_headers(),
    )
    assert exchanged.status_code == 200, exchanged.text
    return created.json()["id"], exchanged.json()["accessToken"]


async def stream(http, stack, token: str, session: str):
    """A new answer on ``session``: the response, and its events when it was 200."""
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": "count my tokens"},
        headers=bearer(token),
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return response, []
        events = await read_events(response)
    return response, events


async def counted(stack, key_id: str, window: int) -> int | None:
    client = redis.from_url(stack.settings["redis_url"])
    try:
        value = await client.get(f"chat:key-tokens:{key_id}:{window}")
        ttl = await client.ttl(f"chat:key-tokens:{key_id}:{window}")
    finally:
        await client.aclose()
    assert value is None or 60 < ttl <= 120
    return None if value is None else int(value)


def completion() -> dict:
    return {"model": HAIKU, "messages": [{"role": "user", "content": "hi"}]}


async def test_one_answer_then_the_key_is_429_on_every_route_until_the_window_turns(http, stack):
    user = await funded_user(http, stack)
    key_id, token = await key_token(http, stack, user, tokensPerMinute=10)
    await in_one_limit_window()
    session = await new_session(http, stack, {"token": token})
    window = int(time.time() // 60)
    response, events = await stream(http, stack, token, session)
    assert response.status_code == 200 and events[-1].event == "complete", events
    end = events[-1].data
    assert end["tokensUsed"] == end["inputTokens"] + end["outputTokens"] > 10  # past it: allowed
    assert await counted(stack, key_id, window) == end["tokensUsed"]  # what was billed

    refused, _ = await stream(http, stack, token, session)
    message = await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/messages",
        json={"message": "and me"},
        headers=bearer(token),
    )
    openai = await http.post(
        f"{stack.chat}/v1/chat/completions", json=completion(), headers=bearer(token)
    )
    for response in (refused, message, openai):
        assert response.status_code == 429, response.text
        assert response.json()["code"] == "rate_limited"
        assert "10 tokens per minute" in response.json()["message"]
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert await counted(stack, key_id, window) == end["tokensUsed"]  # refusals cost nothing
    detail = await http.get(f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(token))
    assert len(detail.json()["messages"]) == 2  # nothing asked after the first answer


async def test_another_key_and_the_users_own_token_are_not_limited_by_it(http, stack):
    user = await funded_user(http, stack)
    key_id, token = await key_token(http, stack, user, tokensPerMinute=10)
    other_id, other = await key_token(http, stack, user, tokensPerMinute=10)
    unlimited_id, unlimited = await key_token(http, stack, user)
    await in_one_limit_window()
    session = await new_session(http, stack, user)
    window = int(time.time() // 60)
    first, first_events = await stream(http, stack, token, session)
    assert first.status_code == 200
    assert (await stream(http, stack, token, session))[0].status_code == 429
    # The other key has its own window: one answer, then it is past its own 10.
    response, other_events = await stream(http, stack, other, session)
    assert response.status_code == 200 and other_events[-1].event == "complete"
    assert (await stream(http, stack, other, session))[0].status_code == 429
    for bearer_token in (user["token"], unlimited, user["token"], unlimited):
        response, events = await stream(http, stack, bearer_token, session)
        assert response.status_code == 200 and events[-1].event == "complete"
    openai = await http.post(
        f"{stack.chat}/v1/chat/completions", json=completion(), headers=bearer(user["token"])
    )
    assert openai.status_code == 200, openai.text
    assert await counted(stack, key_id, window) == first_events[-1].data["tokensUsed"]
    assert await counted(stack, other_id, window) == other_events[-1].data["tokensUsed"]
    assert await counted(stack, unlimited_id, window) is None  # no limit: nothing counted


async def test_each_window_counts_on_its_own(http, stack, monkeypatch):
    user = await funded_user(http, stack)
    key_id, token = await key_token(http, stack, user, tokensPerMinute=10)
    session = await new_session(http, stack, user)
    window = 10**9  # far from now's, so only this test's clock decides
    monkeypatch.setattr(token_limit, "current_window", lambda: window)
    first, first_events = await stream(http, stack, token, session)
    assert first.status_code == 200
    assert (await stream(http, stack, token, session))[0].status_code == 429

    monkeypatch.setattr(token_limit, "current_window", lambda: window + 1)
    second, second_events = await stream(http, stack, token, session)
    assert second.status_code == 200 and second_events[-1].event == "complete"
    assert await counted(stack, key_id, window) == first_events[-1].data["tokensUsed"]
    assert await counted(stack, key_id, window + 1) == second_events[-1].data["tokensUsed"]
    assert (await stream(http, stack, token, session))[0].status_code == 429


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"keyId": "k", "tokensPerMinute": 5}, KeyTokenLimit("k", 5)),
        ({"keyId": "k"}, None),
        ({"tokensPerMinute": 5}, None),  # a user's own token never carries one; ignored
        ({"keyId": "k", "tokensPerMinute": True}, None),
        ({"keyId": "k", "tokensPerMinute": "5"}, None),
        ({"keyId": "k", "tokensPerMinute": 0}, None),
    ],
)
def test_the_limit_is_read_from_the_keys_claims(claims, expected):
    principal = Principal("u", "user", "u@example.com", "enduser", "access", "j", 0, claims)
    assert key_token_limit(principal) == expected


async def test_without_redis_the_limit_fails_open_with_a_warning(caplog):
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = KeyTokenLimiter(client)
    limit = KeyTokenLimit("k", 1)
    with caplog.at_level(logging.WARNING, logger="chat.limits.token_limit"):
        await limiter.add(limit, 100)
        await limiter.check(limit)
    await client.aclose()
    warnings = [r.message for r in caplog.records if r.name == "chat.limits.token_limit"]
    assert warnings == ["key token limit unavailable"] * 2
