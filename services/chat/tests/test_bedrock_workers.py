"""Bedrock answers beyond the worker threads wait for one (boto3 blocks: a thread per answer),
against the real simulator over HTTP; one given up while waiting never reaches the model."""

import asyncio

from prometheus_client import REGISTRY

from chat.config import ChatSettings
from chat.providers.base import Turn
from chat.providers.bedrock import BedrockProvider
from infra_fixtures.servers import serve_app
from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app as create_simulator

from .conftest import HAIKU

SIMULATOR = "model-simulator-workers"  # its own label: other tests' calls are not counted


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def simulator_bedrock_calls() -> float:
    """Converse-stream requests the simulator has answered, from its request counter."""
    return sum(
        s.value
        for metric in REGISTRY.collect()
        if metric.name == "http_requests"
        for s in metric.samples
        if s.name == "http_requests_total"
        and s.labels.get("service") == SIMULATOR
        and s.labels.get("route", "").endswith("/converse-stream")
    )


async def first_text(stream) -> str:
    async for item in stream:
        if isinstance(item, str):
            return item
    raise AssertionError("no text")


async def test_an_answer_waits_for_a_free_worker_and_one_given_up_never_calls_the_model(stack):
    simulator = create_simulator(
        SimulatorSettings(environment="test", service_name=SIMULATOR, first_token_delay_ms=0)
    )
    async with serve_app(simulator) as simulator_url:
        await answers_wait_for_a_worker(
            ChatSettings(**{**stack.settings, "bedrock_endpoint_url": simulator_url})
        )


async def answers_wait_for_a_worker(settings: ChatSettings) -> None:
    model = next(m for m in settings.models if m.id == HAIKU)
    provider = BedrockProvider(settings, max_concurrency=1)
    slow = [Turn("user", "hold the worker [[sim:tokens-per-second=20]] [[sim:answer-tokens=10]]")]
    waiting_before = sample("chat_bedrock_streams_waiting")
    try:
        first = provider.stream(model, slow, 50)
        await first_text(first)  # the only worker is now busy with this answer
        calls_before = simulator_bedrock_calls()

        second = provider.stream(model, [Turn("user", "wait for a worker")], 50)
        reader = asyncio.create_task(first_text(second))
        await asyncio.sleep(0.2)
        assert not reader.done()
        assert sample("chat_bedrock_streams_waiting") == waiting_before + 1
        assert sample("chat_bedrock_streams") >= 1

        reader.cancel()  # the client left while its answer waited
        await asyncio.gather(reader, return_exceptions=True)
        await second.aclose()
        async for _ in first:  # the first answer ends and frees the worker
            pass
        await first.aclose()
        for _ in range(50):
            if sample("chat_bedrock_streams_waiting") == waiting_before:
                break
            await asyncio.sleep(0.05)
        assert sample("chat_bedrock_streams_waiting") == waiting_before
        await asyncio.sleep(0.3)  # time for a (wrong) model call to be made and answered
        # Only the first answer's call finished meanwhile; the given-up one never went out.
        assert simulator_bedrock_calls() == calls_before + 1
    finally:
        provider.close()
