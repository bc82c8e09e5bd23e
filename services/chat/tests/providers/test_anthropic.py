"""The Anthropic provider through the official SDK against the simulator's real HTTP server:
text pieces as they stream, then the usage Anthropic measured; the key it is built with is the
one the simulator sees; refusals, throttling and broken streams become ProviderErrors."""

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from chat.config import DEFAULT_MODELS, ChatSettings
from chat.providers.anthropic import AnthropicProvider
from chat.providers.base import ProviderError, Turn, Usage
from infra_fixtures.servers import serve_app
from model_simulator.config import SimulatorSettings
from model_simulator.generation import expected_answer
from model_simulator.main import create_app as create_simulator

pytestmark = pytest.mark.timeout(30)

MODEL = next(m for m in DEFAULT_MODELS if m.provider == "anthropic")
TOKENS = 8


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def simulator() -> AsyncIterator[str]:
    settings = SimulatorSettings(
        environment="test", first_token_delay_ms=0, tokens_per_second=0, answer_tokens=TOKENS
    )
    async with serve_app(create_simulator(settings)) as url:
        yield url


def provider(simulator: str, **given) -> AnthropicProvider:
    settings = ChatSettings(environment="test", anthropic_base_url=simulator)
    return AnthropicProvider(settings, **given)


async def everything(provider: AnthropicProvider, prompt: str, **options) -> list[str | Usage]:
    try:
        return [
            item async for item in provider.stream(MODEL, [Turn("user", prompt)], 100, **options)
        ]
    finally:
        await provider.aclose()


async def newest_messages_request(simulator: str) -> dict:
    async with httpx.AsyncClient() as http:
        listed = await http.get(f"{simulator}/sim/requests", params={"limit": 10})
    return next(r for r in listed.json()["requests"] if r["path"] == "/v1/messages")


async def test_text_streams_then_the_measured_usage(simulator):
    items = await everything(provider(simulator), "Name a river", system="Be terse.")

    *pieces, usage = items
    assert len(pieces) == TOKENS  # one piece per token, as they come
    assert "".join(pieces) == expected_answer(MODEL.id, "Name a river", TOKENS)
    assert usage == Usage(input_tokens=2 + 3, output_tokens=TOKENS, stop_reason="end_turn")
    seen = await newest_messages_request(simulator)
    assert seen["keyFingerprint"] == fingerprint("sk-sim-anthropic-platform")


async def test_max_tokens_is_sent_and_reported(simulator):
    chosen = provider(simulator)
    try:
        items = [i async for i in chosen.stream(MODEL, [Turn("user", "Say a lot")], 3)]
    finally:
        await chosen.aclose()
    assert items[-1] == Usage(input_tokens=3, output_tokens=3, stop_reason="max_tokens")


async def test_a_given_key_and_base_url_are_used_instead_of_the_platforms(simulator):
    own = AnthropicProvider(
        ChatSettings(environment="test", anthropic_base_url="http://127.0.0.1:9"),
        api_key="sk-sim-byok-own-1",
        base_url=f"{simulator}/",
    )
    items = await everything(own, "hi")
    assert isinstance(items[-1], Usage)
    seen = await newest_messages_request(simulator)
    assert (seen["keyFingerprint"], seen["accepted"]) == (fingerprint("sk-sim-byok-own-1"), True)


async def test_an_empty_given_key_is_not_replaced_by_the_platforms(simulator):
    with pytest.raises(ProviderError):
        await everything(provider(simulator, api_key=""), "hi")


async def test_a_refused_key_is_a_provider_error(simulator):
    with pytest.raises(ProviderError) as failed:
        await everything(provider(simulator, api_key="sk-ant-not-accepted"), "hi")
    assert failed.value.code == "provider_error"
    seen = await newest_messages_request(simulator)
    assert seen["accepted"] is False


async def test_throttling_is_provider_throttled(simulator):
    with pytest.raises(ProviderError) as failed:
        await everything(provider(simulator), "hi [[sim:throttle]]")
    assert failed.value.code == "provider_throttled"


async def test_an_error_event_mid_stream_fails_after_the_pieces_sent(simulator):
    got: list[str | Usage] = []
    chosen = provider(simulator)
    with pytest.raises(ProviderError) as failed:
        async for item in chosen.stream(MODEL, [Turn("user", "go [[sim:error-after=2]]")], 100):
            got.append(item)
    await chosen.aclose()
    assert failed.value.code == "provider_error"
    assert len(got) == 2 and all(isinstance(item, str) for item in got)


async def test_a_dropped_stream_is_provider_unavailable_and_reports_no_usage(simulator):
    got: list[str | Usage] = []
    chosen = provider(simulator)
    with pytest.raises(ProviderError) as failed:
        async for item in chosen.stream(MODEL, [Turn("user", "go [[sim:cut-after=3]]")], 100):
            got.append(item)
    await chosen.aclose()
    assert failed.value.code == "provider_unavailable"
    assert not any(isinstance(item, Usage) for item in got)


async def test_an_unreachable_server_is_provider_unavailable():
    with pytest.raises(ProviderError) as failed:
        await everything(provider("http://127.0.0.1:9"), "hi")
    assert failed.value.code == "provider_unavailable"
