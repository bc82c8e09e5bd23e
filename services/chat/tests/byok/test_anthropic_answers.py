"""Answers on the catalog's Anthropic model: with the caller's anthropic BYOK credential the
simulator sees that key on /v1/messages and usage says byok (charged the BYOK fee, 0); without
one the platform's ANTHROPIC_API_KEY and the model's price apply. An OpenAI-compatible
credential whose baseUrl may not be called now fails the answer with 422
byok_endpoint_refused: nothing reserved, nothing sent to it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest_asyncio

from chat.byok.endpoints import EndpointCheck
from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from ..conftest import balance, bearer, funded_user, login, new_session
from .test_byok_answers import FakeProvisioning, eventually, fingerprint, usage_row

CLAUDE = "claude-3-5-haiku-20241022"
GPT = "gpt-4o-mini"
BYOK_KEY = "sk-sim-byok-anthropic-chat-1"  # the simulator's rule: sk-sim-... is valid


@dataclass
class Chat:
    url: str
    app: Any
    provisioning: FakeProvisioning


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chat(stack) -> AsyncIterator[Chat]:
    provisioning = FakeProvisioning(simulator=stack.simulator)
    async with serve_app(provisioning.app()) as provisioning_url:
        settings = ChatSettings(
            **{**stack.settings, "provisioning_url": provisioning_url, "byok_cache_seconds": 0.001}
        )
        app = create_app(settings)
        async with serve_app(app) as url:
            yield Chat(url, app, provisioning)


def completion(model: str = CLAUDE) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}


async def newest(http, stack, path: str) -> dict:
    listed = await http.get(f"{stack.simulator}/sim/requests", params={"limit": 20})
    return next(r for r in listed.json()["requests"] if r["path"] == path)


async def test_the_anthropic_model_is_listed_for_every_role(http, stack, chat):
    user = await funded_user(http, stack, credits=0)
    listed = await http.get(f"{chat.url}/api/models", headers=bearer(user["token"]))
    claude = next(m for m in listed.json()["models"] if m["id"] == CLAUDE)
    assert claude["provider"] == "anthropic"


async def test_an_anthropic_byok_credential_is_used_and_usage_is_byok(http, stack, chat):
    user = await funded_user(http, stack, credits=10)
    chat.provisioning.credentials[user["id"]] = {
        "id": "cred-anthropic-1",
        "provider": "anthropic",
        "baseUrl": stack.simulator,
        "apiKey": BYOK_KEY,
    }
    answer = await http.post(
        f"{chat.url}/v1/chat/completions", json=completion(), headers=bearer(user["token"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    assert answer.json()["usage"]["completion_tokens"] > 0
    seen = await newest(http, stack, "/v1/messages")
    assert (seen["keyFingerprint"], seen["accepted"]) == (fingerprint(BYOK_KEY), True)
    assert chat.provisioning.asked[-1] == (user["id"], None, ["anthropic"])
    row = await eventually(lambda: usage_row(stack, user["id"]))
    assert (row["byok"], row["reserved_byok"], row["credits_micro"]) == (True, True, 0)
    assert (await balance(http, stack, user))["totalCredits"] == 10


async def test_without_a_credential_the_platforms_anthropic_key_and_price_apply(http, stack, chat):
    user = await funded_user(http, stack, credits=10)
    session = await new_session(http, stack, user, model_id=CLAUDE, base=chat.url)
    answer = await http.post(
        f"{chat.url}/api/chat/sessions/{session}/messages",
        json={"message": "Name a river"},
        headers=bearer(user["token"]),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"] and answer.json()["creditsUsed"] > 0
    seen = await newest(http, stack, "/v1/messages")
    assert seen["keyFingerprint"] == fingerprint("sk-sim-anthropic-platform")
    row = await eventually(lambda: usage_row(stack, user["id"]))
    assert row["byok"] is False and row["credits_micro"] > 0


async def test_a_byok_endpoint_that_resolves_to_a_private_address_is_refused(http, stack, chat):
    token = await login(http, stack, "admin")  # GPT-4o mini (openai): supervisors and admins
    admin_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    port = stack.simulator.rsplit(":", 1)[1]
    chat.provisioning.credentials[admin_id] = {
        "id": "cred-compat-1",
        "provider": "openai-compatible",
        # Stored when it resolved elsewhere; now "localhost" is loopback (the real resolver).
        "baseUrl": f"https://localhost:{port}",
        "apiKey": "sk-sim-compat-1",
    }
    routing = chat.app.state.streams.byok
    kept = routing._endpoint_check
    routing._endpoint_check = EndpointCheck(production=True)  # the rule as production has it
    try:
        answer = await http.post(
            f"{chat.url}/v1/chat/completions",
            json=completion(GPT),
            headers=bearer(token),
        )
    finally:
        routing._endpoint_check = kept
        del chat.provisioning.credentials[admin_id]
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "byok_endpoint_refused"
    assert "127.0.0.1" in body["message"] or "::1" in body["message"]
    assert body["details"] == {"credentialId": "cred-compat-1"}
