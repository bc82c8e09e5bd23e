"""The Bedrock provider against the simulator's real Bedrock wire protocol (AWS event-stream
over HTTP, SigV4), through aiobotocore: no thread per answer, the measured usage from the
stream's metadata, errors mapped to the client's codes, an answer ended early closes its
upstream stream, and the client is closed only once its last answer ends."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from prometheus_client import REGISTRY

from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ProviderError, Turn, Usage
from chat.providers.bedrock import AwsAccess, BedrockProvider
from infra_fixtures.servers import serve_app
from model_simulator.config import SimulatorSettings
from model_simulator.generation import expected_answer
from model_simulator.main import create_app as create_simulator

from .conftest import HAIKU

pytestmark = pytest.mark.timeout(60)

MODEL = ModelConfig(id=HAIKU, provider="bedrock", display_name="Haiku")
Scope = MutableMapping[str, Any]
ASGI = Callable[..., Awaitable[None]]


class Upstream:
    """The simulator's app, counting its converse-stream responses still being answered: a
    stalled one ends only when its client closes the connection (or after 60 s)."""

    def __init__(self, app: ASGI) -> None:
        self._app = app
        self.open = 0
        self._changed = asyncio.Condition()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/converse-stream"):
            await self._app(scope, receive, send)
            return
        await self._count(+1)
        try:
            await self._app(scope, receive, send)
        finally:
            await self._count(-1)

    async def _count(self, change: int) -> None:
        async with self._changed:
            self.open += change
            self._changed.notify_all()

    async def wait_for(self, open_streams: int, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.open == open_streams)


@asynccontextmanager
async def simulator() -> AsyncIterator[tuple[str, Upstream]]:
    upstream = Upstream(
        create_simulator(
            SimulatorSettings(
                environment="test",
                service_name="model-simulator-bedrock-provider",
                first_token_delay_ms=0,
                tokens_per_second=0,
                answer_tokens=12,
                max_stall_seconds=60,
            )
        )
    )
    async with serve_app(upstream) as url:
        yield url, upstream


def provider_at(url: str) -> BedrockProvider:
    return BedrockProvider(
        AwsAccess(url, "us-east-1", access_key_id="AKIASIMPROVIDER1", secret_access_key="s")
    )


def gauge() -> float:
    return REGISTRY.get_sample_value("chat_bedrock_streams") or 0.0


async def first_texts(stream: AsyncIterator[str | Usage], count: int) -> str:
    text = ""
    async for item in stream:
        if isinstance(item, str):
            text += item
            count -= 1
            if count == 0:
                return text
    raise AssertionError(f"the stream ended after {text!r}")


async def whole(stream: AsyncIterator[str | Usage]) -> tuple[str, list[Usage]]:
    text, usages = "", []
    async for item in stream:
        if isinstance(item, Usage):
            usages.append(item)
        else:
            text += item
    return text, usages


async def test_an_answer_streams_its_text_and_the_measured_usage():
    async with simulator() as (url, _):
        provider = provider_at(url)
        try:
            prompt = "measure me"
            text, usages = await whole(
                provider.stream(MODEL, [Turn("user", prompt)], 50, system="be brief")
            )
            assert text == expected_answer(HAIKU, prompt, 12)
            # The simulator counts every text of the request, the system prompt included.
            assert usages == [Usage(4, 12, "end_turn")]

            text, usages = await whole(provider.stream(MODEL, [Turn("user", prompt)], 5))
            assert text == expected_answer(HAIKU, prompt, 5)
            assert usages == [Usage(2, 5, "max_tokens")]
        finally:
            await provider.aclose()


@pytest.mark.parametrize(
    ("marker", "code", "texts_first"),
    [
        ("[[sim:throttle]]", "provider_throttled", 0),
        ("[[sim:fail]]", "provider_error", 0),
        ("[[sim:error-after=2]]", "provider_error", 2),
        ("[[sim:cut-after=2]]", "provider_error", 2),
    ],
)
async def test_failures_are_mapped_to_the_clients_codes(marker, code, texts_first):
    async with simulator() as (url, upstream):
        provider = provider_at(url)
        texts: list[str] = []
        try:
            with pytest.raises(ProviderError) as raised:
                async for item in provider.stream(MODEL, [Turn("user", f"go {marker}")], 50):
                    if isinstance(item, str):
                        texts.append(item)
            assert raised.value.code == code
            assert len(texts) == texts_first
            await upstream.wait_for(0)
            assert provider.streaming == 0
        finally:
            await provider.aclose()


async def test_an_unreachable_endpoint_is_provider_unavailable():
    async with simulator() as (url, _):
        pass  # served, then stopped: nothing listens on its port any more
    provider = provider_at(url)
    try:
        with pytest.raises(ProviderError) as raised:
            await whole(provider.stream(MODEL, [Turn("user", "anyone?")], 10))
        assert raised.value.code == "provider_unavailable"
    finally:
        await provider.aclose()


async def test_a_cancelled_answer_closes_its_upstream_stream():
    async with simulator() as (url, upstream):
        provider = provider_at(url)
        before = gauge()
        try:
            # Two tokens, then the simulator stalls: only the client closing ends it.
            stream = provider.stream(MODEL, [Turn("user", "wait [[sim:stall-after=2]]")], 50)
            assert await first_texts(stream, 2)
            reading_on = asyncio.Event()

            async def read_on() -> tuple[str, list[Usage]]:
                reading_on.set()  # the task runs on into the stalled read before it yields
                return await whole(stream)

            reading = asyncio.create_task(read_on())
            await reading_on.wait()
            assert upstream.open == 1
            assert gauge() == before + 1
            assert provider.streaming == 1

            reading.cancel()  # what the producer does when the client went away
            with pytest.raises(asyncio.CancelledError):
                await reading
            assert provider.streaming == 0
            assert gauge() == before
            await upstream.wait_for(0, timeout=5)  # closed now, not after the 60 s stall
        finally:
            await provider.aclose()


async def test_hundreds_of_answers_stream_at_once_with_no_thread_each():
    """More answers than the 256 worker threads boto3 had, all open together."""
    answers = 300
    async with simulator() as (url, upstream):
        provider = provider_at(url)
        before = gauge()
        try:
            streams = [
                provider.stream(MODEL, [Turn("user", f"hold {i} [[sim:stall-after=1]]")], 50)
                for i in range(answers)
            ]
            async with asyncio.timeout(30):
                firsts = await asyncio.gather(*(first_texts(s, 1) for s in streams))
            assert all(firsts)
            assert provider.streaming == answers
            assert gauge() == before + answers
            await upstream.wait_for(answers)

            for stream in streams:
                await stream.aclose()
            assert provider.streaming == 0
            await upstream.wait_for(0)
        finally:
            await provider.aclose()


async def test_the_client_closes_once_its_last_answer_ends():
    async with simulator() as (url, upstream):
        provider = provider_at(url)
        assert not provider.is_open  # opened by its first answer
        stream = provider.stream(MODEL, [Turn("user", "slow [[sim:stall-after=1]]")], 50)
        await first_texts(stream, 1)
        assert provider.is_open

        await provider.aclose()  # an answer is still streaming: it is not broken
        assert provider.is_open
        await stream.aclose()
        assert not provider.is_open
        await upstream.wait_for(0)

        # Used again after aclose (an answer that got it just before): open for that answer.
        text, _ = await whole(provider.stream(MODEL, [Turn("user", "again")], 3))
        assert text == expected_answer(HAIKU, "again", 3)
        assert not provider.is_open


async def test_the_platform_provider_uses_the_settings_endpoint_and_keys():
    async with simulator() as (url, _):
        settings = ChatSettings(environment="test", bedrock_endpoint_url=url)
        provider = BedrockProvider.of_platform(settings)
        try:
            await provider.open()
            text, usages = await whole(provider.stream(MODEL, [Turn("user", "platform")], 4))
            assert text == expected_answer(HAIKU, "platform", 4)
            assert usages[0].output_tokens == 4
        finally:
            await provider.aclose()
        assert not provider.is_open
        assert "simulator-secret" not in repr(AwsAccess.of_platform(settings))
