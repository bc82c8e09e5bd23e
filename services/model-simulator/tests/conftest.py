import socket
import threading
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
import uvicorn
from anthropic import Anthropic
from botocore.config import Config
from openai import OpenAI

from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
ANSWER_TOKENS = 12
MAX_STALL_SECONDS = 1.0


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """The simulator as a real uvicorn server on an ephemeral port, unpaced unless asked."""
    settings = SimulatorSettings(
        environment="test",
        first_token_delay_ms=0,
        tokens_per_second=0,
        answer_tokens=ANSWER_TOKENS,
        max_stall_seconds=MAX_STALL_SECONDS,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the simulator did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def bedrock_client(url: str, read_timeout: float = 5):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # One attempt: a simulated fault must surface, not be retried away.
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=2,
            read_timeout=read_timeout,
        ),
    )


@pytest.fixture(scope="session")
def bedrock(simulator_url):
    return bedrock_client(simulator_url)


@pytest.fixture(scope="session")
def bedrock_control(simulator_url):
    """boto3's ``bedrock`` client (the control plane: ListFoundationModels and the like)."""
    return boto3.client(
        "bedrock",
        endpoint_url=simulator_url,
        region_name="eu-west-3",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=5),
    )


@pytest.fixture
def conditions(simulator_url) -> Iterator[httpx.Client]:
    """The simulator's /sim/models, every model served normally again after the test."""
    with httpx.Client(base_url=simulator_url, timeout=5) as client:
        try:
            yield client
        finally:
            client.delete("/sim/models").raise_for_status()


def openai_client(url: str, timeout: float = 5) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="test", max_retries=0, timeout=timeout)


@pytest.fixture(scope="session")
def openai(simulator_url) -> Iterator[OpenAI]:
    client = openai_client(simulator_url)
    yield client
    client.close()


def user_turn(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


ANTHROPIC_KEY = "sk-sim-anthropic-tests"


def anthropic_client(url: str, api_key: str = ANTHROPIC_KEY, timeout: float = 5) -> Anthropic:
    """The official SDK against the simulator; one attempt, so a fault is seen at once."""
    return Anthropic(base_url=url, api_key=api_key, max_retries=0, timeout=timeout)


@pytest.fixture(scope="session")
def anthropic(simulator_url) -> Iterator[Anthropic]:
    client = anthropic_client(simulator_url)
    yield client
    client.close()
