"""End-to-end tests: they talk to a running stack over HTTP and AMQP only.

Base URLs come from the environment (defaults: the local stack of `make dev`):
AUTH_URL, ACCOUNTING_URL, CHAT_URL, PROVISIONING_URL, GATEWAY_URL, E2E_RABBITMQ_URL,
E2E_BUS_EXCHANGE.
Nothing here imports service code.
"""

import httpx
import pytest
from helpers import (
    ACCOUNTING_URL,
    AUTH_URL,
    CHAT_URL,
    GATEWAY_URL,
    PROVISIONING_URL,
    DirectRoutes,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The schemathesis suite runs last: it spends its own users' chat limits and a few of
    this address's login failures, which the other tests should not meet halfway."""
    items.sort(key=lambda item: item.module.__name__ == "test_openapi_fuzz")


def _service(name: str, url: str):
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            client.get("/api/health").raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"the {name} service does not answer at {url}: {exc}", pytrace=False)
        yield client


@pytest.fixture(scope="session")
def auth() -> httpx.Client:
    yield from _service("auth", AUTH_URL)


@pytest.fixture(scope="session")
def accounting() -> httpx.Client:
    yield from _service("accounting", ACCOUNTING_URL)


@pytest.fixture(scope="session")
def chat() -> httpx.Client:
    yield from _service("chat", CHAT_URL)


@pytest.fixture(scope="session")
def gateway() -> httpx.Client:
    yield from _service("gateway", GATEWAY_URL)


@pytest.fixture(scope="session")
def provisioning() -> httpx.Client:
    yield from _service("provisioning", PROVISIONING_URL)


@pytest.fixture(scope="session", params=["gateway", "direct"])
def entry(request, gateway, auth, accounting, chat, provisioning) -> httpx.Client:
    """The journeys run twice: through the gateway, and on each service's own port."""
    if request.param == "gateway":
        yield gateway
        return
    with DirectRoutes() as client:
        yield client
