"""End-to-end tests: they talk to a running stack over HTTP and AMQP only.

Base URLs come from the environment (defaults: the local stack of `make dev`):
AUTH_URL, E2E_RABBITMQ_URL, E2E_BUS_EXCHANGE. Nothing here imports service code.
"""

import httpx
import pytest
from helpers import AUTH_URL


@pytest.fixture(scope="session")
def auth() -> httpx.Client:
    with httpx.Client(base_url=AUTH_URL, timeout=30) as client:
        try:
            client.get("/api/health").raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"the auth service does not answer at {AUTH_URL}: {exc}", pytrace=False)
        yield client
