"""Model health through chat's HTTP API against the real stack: the simulator (boto3's
``bedrock`` and ``bedrock-runtime`` clients, the OpenAI wire format), Redis, accounting.

A chat of its own here probes every 0.3 s; the stack's two replicas share its result through
Redis (one deployment: the same endpoints and catalog). A model made unavailable on the
simulator is served normally again, and seen so by every replica, before a test ends.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio

from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.servers import serve_app

from ..conftest import HAIKU, balance, bearer, funded_user, login, new_session

TITAN = "amazon.titan-text-express-v1"
GPT = "gpt-4o-mini"
CLAUDE = "claude-3-5-haiku-20241022"
PROBE = {
    "model_probe_interval_seconds": 0.3,
    "model_probe_timeout_seconds": 2,
    "model_degraded_latency_ms": 1000,
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def probing(stack) -> AsyncIterator[str]:
    """A chat replica probing every 0.3 s."""
    async with serve_app(create_chat(ChatSettings(**{**stack.settings, **PROBE}))) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def simulator(http, stack, probing) -> AsyncIterator[str]:
    """The simulator's /sim/models; every model normal again, on every replica, afterwards."""
    yield f"{stack.simulator}/sim/models"
    await http.delete(f"{stack.simulator}/sim/models")
    admin = bearer(await login(http, stack, "admin"))
    for base in (probing, stack.chat, stack.chat_b):
        await until_status(http, base, admin, {TITAN: "available", HAIKU: "available"})


async def statuses(http, base, headers) -> dict[str, str]:
    response = await http.get(f"{base}/api/models/health", headers=headers)
    assert response.status_code == 200, response.text
    return {m["id"]: m["status"] for m in response.json()["models"]}


async def until_status(http, base, headers, wanted: dict[str, str], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        seen = await statuses(http, base, headers)
        if all(seen.get(model) == status for model, status in wanted.items()):
            return
        assert time.monotonic() < deadline, f"{base}: {seen}, not {wanted}"
        await asyncio.sleep(0.1)


async def test_every_model_is_probed_and_listed_with_its_status(http, stack, probing):
    admin = bearer(await login(http, stack, "admin"))
    user = bearer(await login(http, stack, "user1"))
    await until_status(http, probing, admin, {HAIKU: "available", GPT: "available"})

    health = (await http.get(f"{probing}/api/models/health", headers=admin)).json()
    models = (await http.get(f"{probing}/api/models", headers=user)).json()["models"]
    user_health = (await http.get(f"{probing}/api/models/health", headers=user)).json()

    assert {m["id"] for m in health["models"]} == {m.id for m in ChatSettings().models}
    haiku = next(m for m in health["models"] if m["id"] == HAIKU)
    assert haiku["provider"] == "bedrock" and haiku["listed"] is True
    assert haiku["latencyMs"] >= 0 and haiku["reason"] is None
    assert haiku["lastCheckedAt"] and health["checkedAt"]
    assert health["probeIntervalSeconds"] == 0.3
    # (degraded only when the loaded machine keeps an answer past 1000 ms)
    assert {m["status"] for m in models} <= {"available", "degraded"}
    # Each caller sees the models their role may use, as in /api/models.
    assert {m["id"] for m in user_health["models"]} == {m["id"] for m in models}
    assert GPT not in {m["id"] for m in models}
    unauthenticated = await http.get(f"{probing}/api/models/health")
    assert unauthenticated.status_code == 401


async def test_the_probe_marks_a_model_unavailable_then_available_again_on_every_replica(
    http, stack, probing, simulator
):
    admin = bearer(await login(http, stack, "admin"))
    made = await http.put(f"{simulator}/{TITAN}", json={"available": False})
    assert made.status_code == 200

    await until_status(http, probing, admin, {TITAN: "unavailable", HAIKU: "available"})
    # The stack's replicas probe only every 30 s: they have it from Redis.
    for replica in (stack.chat, stack.chat_b):
        await until_status(http, replica, admin, {TITAN: "unavailable"}, timeout=3)
    health = (await http.get(f"{stack.chat_b}/api/models/health", headers=admin)).json()
    titan = next(m for m in health["models"] if m["id"] == TITAN)
    assert titan["reason"] == (
        "Bedrock refused it: ServiceUnavailableException (HTTP 503) and its model list "
        "does not name it"
    )
    assert titan["listed"] is False
    listed = (await http.get(f"{stack.chat}/api/models", headers=admin)).json()["models"]
    assert next(m for m in listed if m["id"] == TITAN)["status"] == "unavailable"

    assert (await http.delete(f"{simulator}/{TITAN}")).status_code == 204
    await until_status(http, probing, admin, {TITAN: "available"})
    await until_status(http, stack.chat, admin, {TITAN: "available"}, timeout=3)


async def test_a_slow_model_is_degraded_and_one_past_the_timeout_unavailable(
    http, stack, probing, simulator
):
    admin = bearer(await login(http, stack, "admin"))
    await http.put(f"{simulator}/{TITAN}", json={"extraLatencyMs": 1300})
    await http.put(f"{simulator}/{GPT}", json={"extraLatencyMs": 60_000})

    await until_status(http, probing, admin, {TITAN: "degraded", GPT: "unavailable"})

    health = (await http.get(f"{probing}/api/models/health", headers=admin)).json()
    reasons = {m["id"]: m["reason"] for m in health["models"]}
    assert reasons[TITAN].startswith("answered in ") and "slower than 1000 ms" in reasons[TITAN]
    assert reasons[GPT] == "no answer within 2 s"


async def test_an_unavailable_model_is_refused_at_once_and_nothing_is_held(
    http, stack, probing, simulator
):
    user = await funded_user(http, stack, credits=20)
    headers = bearer(user["token"])
    session = await new_session(http, stack, user, model_id=TITAN, base=probing)
    before = await balance(http, stack, user)
    # Slower than any client would wait: without the probe each request would hang on it.
    await http.put(f"{simulator}/{TITAN}", json={"extraLatencyMs": 600_000})
    await until_status(http, probing, headers, {TITAN: "unavailable"})

    started = time.monotonic()
    refused = [
        await http.post(
            f"{probing}/api/chat/sessions/{session}/stream", json={"message": "hi"}, headers=headers
        ),
        await http.get(
            f"{probing}/api/chat/sessions/{session}/stream",
            params={"message": "hi", "modelId": TITAN},
            headers=headers,
        ),
        await http.post(
            f"{probing}/api/chat/sessions/{session}/messages",
            json={"message": "hi"},
            headers=headers,
        ),
        await http.post(
            f"{probing}/v1/chat/completions",
            json={"model": TITAN, "messages": [{"role": "user", "content": "hi"}]},
            headers=headers,
        ),
    ]
    elapsed = time.monotonic() - started

    for response in refused:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "model_unavailable"
        assert response.json()["details"]["modelId"] == TITAN
        assert int(response.headers["Retry-After"]) >= 1
    assert elapsed < 2  # four refusals, no model call among them
    after = await balance(http, stack, user)
    assert after == before and after["reservedCredits"] == 0
    holds = await http.get(f"{stack.accounting}/api/streaming-sessions/active", headers=headers)
    assert holds.status_code == 200 and holds.json()["reservations"] == []
    # Another model of the same session is served as ever.
    answered = await http.post(
        f"{probing}/api/chat/sessions/{session}/messages",
        json={"message": "hi", "modelId": HAIKU},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text


async def test_an_admin_syncs_the_providers_lists_and_nobody_else_may(
    http, stack, probing, simulator
):
    admin = bearer(await login(http, stack, "admin"))
    await http.put(f"{simulator}/{TITAN}", json={"available": False})

    synced = await http.post(f"{stack.chat}/api/models/sync", headers=admin)

    assert synced.status_code == 200, synced.text
    body = synced.json()
    providers = {p["provider"]: p for p in body["providers"]}
    assert set(providers) == {"bedrock", "openai", "anthropic"}
    assert all(provider["reachable"] for provider in providers.values())
    assert CLAUDE in providers["anthropic"]["models"]  # Anthropic's GET /v1/models
    assert HAIKU in providers["bedrock"]["models"] and TITAN not in providers["bedrock"]["models"]
    assert GPT in providers["openai"]["models"]
    assert providers["bedrock"]["notInCatalog"] == [] and providers["bedrock"]["error"] is None
    by_id = {m["id"]: m for m in body["models"]}
    assert by_id[TITAN]["status"] == "unavailable" and by_id[HAIKU]["status"] == "available"
    assert by_id[CLAUDE]["status"] == "available"  # probed with a one-token message
    assert body["syncedAt"] == by_id[HAIKU]["lastCheckedAt"]
    # What one replica synced, the others serve.
    await until_status(http, stack.chat_b, admin, {TITAN: "unavailable"}, timeout=3)

    for name in ("user1", "supervisor1"):
        token = bearer(await login(http, stack, name))
        refused = await http.post(f"{stack.chat}/api/models/sync", headers=token)
        assert refused.status_code == 403, refused.text
    assert (await http.post(f"{stack.chat}/api/models/sync")).status_code == 401
