"""Idempotency-Key on `POST /v1/chat/completions` (issue 14), streamed or not: one key, one
answer, one charge. A retry, or a second request at once on any replica, is attached to the
answer the key started, under the same id and ``created``."""

import asyncio
import json
import uuid

import httpx

from ..conftest import HAIKU, balance, bearer, funded_user
from ..streaming.test_idempotent_answers import reservations_of, spent

SLOW = "a slow one [[sim:tokens-per-second=40]] [[sim:answer-tokens=20]]"


def ask(message: str, **extra) -> dict:
    return {"model": HAIKU, "messages": [{"role": "user", "content": message}], **extra}


async def complete(http, base: str, user: dict, body: dict, key: str | None) -> httpx.Response:
    headers = {**bearer(user["token"]), **({"Idempotency-Key": key} if key else {})}
    return await http.post(f"{base}/v1/chat/completions", json=body, headers=headers, timeout=30)


async def streamed(http, base: str, user: dict, body: dict, key: str | None):
    """(status, headers, the chunks' payloads up to [DONE], or the JSON body)."""
    headers = {**bearer(user["token"]), **({"Idempotency-Key": key} if key else {})}
    async with http.stream(
        "POST", f"{base}/v1/chat/completions", json=body, headers=headers, timeout=30
    ) as response:
        raw = (await asyncio.wait_for(response.aread(), 30)).decode()
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        return response.status_code, response.headers, json.loads(raw)
    payloads = [
        line.removeprefix("data: ").strip()
        for line in raw.splitlines()
        if line.startswith("data: ")
    ]
    assert payloads[-1] == "[DONE]", payloads
    return response.status_code, response.headers, [json.loads(p) for p in payloads[:-1]]


def text_of(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def test_two_whole_completions_with_one_key_at_once_are_one_answer(http, stack):
    user = await funded_user(http, stack, 100)
    before = await balance(http, stack, user)
    key, body = str(uuid.uuid4()), ask(SLOW)
    first, second = await asyncio.gather(
        complete(http, stack.chat, user, body, key), complete(http, stack.chat_b, user, body, key)
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.content == second.content  # the same id, created, text and usage
    assert sorted("idempotent-replayed" in a.headers for a in (first, second)) == [False, True]
    assert await reservations_of(stack, user) == 1
    charged = spent(before, await balance(http, stack, user))
    assert charged > 0
    again = await complete(http, stack.chat, user, body, key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert spent(before, await balance(http, stack, user)) == charged  # nothing charged again


async def test_two_streamed_completions_with_one_key_at_once_are_one_answer(http, stack):
    user = await funded_user(http, stack, 100)
    before = await balance(http, stack, user)
    key, body = str(uuid.uuid4()), ask(SLOW, stream=True, stream_options={"include_usage": True})
    first, second = await asyncio.gather(
        streamed(http, stack.chat, user, body, key), streamed(http, stack.chat_b, user, body, key)
    )
    for status, _, chunks in (first, second):
        assert status == 200, chunks
        assert chunks[-1]["usage"]["completion_tokens"] == 20
    assert text_of(first[2]) == text_of(second[2]) != ""
    assert {(c["id"], c["created"]) for c in first[2] + second[2]} == {
        (first[2][0]["id"], first[2][0]["created"])
    }
    assert sorted("idempotent-replayed" in s[1] for s in (first, second)) == [False, True]
    assert await reservations_of(stack, user) == 1
    tokens = first[2][-1]["usage"]
    assert tokens == second[2][-1]["usage"]
    charged = spent(before, await balance(http, stack, user))
    assert charged > 0
    status, headers, later = await streamed(http, stack.chat, user, body, key)
    assert status == 200 and headers["idempotent-replayed"] == "true"
    assert text_of(later) == text_of(first[2])
    assert spent(before, await balance(http, stack, user)) == charged


async def test_the_same_key_with_another_body_is_422_and_answers_nothing(http, stack):
    user = await funded_user(http, stack, 100)
    key = str(uuid.uuid4())
    assert (await complete(http, stack.chat, user, ask("hello"), key)).status_code == 200
    for other in (ask("bye"), ask("hello", stream=True)):
        reused = await complete(http, stack.chat, user, other, key)
        assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert await reservations_of(stack, user) == 1


async def test_a_refused_completion_gives_its_key_up(http, stack):
    user = await funded_user(http, stack, 0)
    key = str(uuid.uuid4())
    refused = await complete(http, stack.chat, user, ask("hello"), key)
    assert (refused.status_code, refused.json()["code"]) == (402, "insufficient_credits")
    # Another body with the key: a new request (its key was not kept), not a 422.
    again = await complete(http, stack.chat, user, ask("other"), key)
    assert (again.status_code, again.json()["code"]) == (402, "insufficient_credits")
    assert await reservations_of(stack, user) == 0


async def test_without_a_key_every_completion_is_answered_and_charged(http, stack):
    user = await funded_user(http, stack, 100)
    first = await complete(http, stack.chat, user, ask("hello"), None)
    second = await complete(http, stack.chat, user, ask("hello"), None)
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert await reservations_of(stack, user) == 2


async def test_the_header_and_its_answers_are_documented(http, stack):
    operation = (await http.get(f"{stack.chat}/openapi.json")).json()["paths"][
        "/v1/chat/completions"
    ]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
    assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"]
