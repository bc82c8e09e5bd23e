"""Provisioning against the real services it talks to: auth (users, API keys), accounting
(team accounts, grants) and chat (the model catalog), each served over HTTP in this loop, on
real PostgreSQL, RabbitMQ, Redis and the MongoDB-protocol server."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio

from accounting.config import AccountingSettings
from accounting.main import create_app as create_accounting
from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key
from auth.main import create_app as create_auth
from auth.service_clients.registry import CLIENT_SCOPES
from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.servers import serve_app
from provisioning.config import ProvisioningSettings
from provisioning.main import create_app as create_provisioning

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
TITAN = "amazon.titan-text-express-v1"
DEFAULT_PLAN_CREDITS = 100
DEMO_PASSWORDS = {
    "admin": "admin@admin",
    "supervisor1": "Supervisor1@",
    "user1": "User1@123",
    "user2": "User2@123",
}


@dataclass
class Stack:
    auth: str
    accounting: str
    chat: str
    provisioning: str
    settings: ProvisioningSettings
    app: object


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(
    postgres_databases,
    redis_url,
    rabbitmq_url,
    bus_namespace,
    mongo_url,
    mongo_database_name,
) -> AsyncIterator[Stack]:
    exchange = bus_namespace.exchange_name("provisioning-stack")
    auth = create_auth(
        AuthSettings(
            environment="test",
            database_url=postgres_databases.create("auth"),
            redis_url=redis_url,
            rabbitmq_url=rabbitmq_url,
            bus_exchange=exchange,
            seed_demo_users=True,
            argon2_time_cost=1,
            argon2_memory_kib=8192,
        )
    )
    async with serve_app(auth) as auth_url:
        accounting = create_accounting(
            AccountingSettings(
                environment="test",
                database_url=postgres_databases.create("accounting"),
                rabbitmq_url=rabbitmq_url,
                bus_exchange=exchange,
                user_registered_queue=bus_namespace.queue_name("prov-stack.accounting-users"),
                usage_recorded_queue=bus_namespace.queue_name("prov-stack.accounting-usage"),
                auth_url=auth_url,
            )
        )
        chat = create_chat(
            ChatSettings(
                environment="test",
                mongo_url=mongo_url,
                mongo_database=mongo_database_name,
                redis_url=redis_url,
                rabbitmq_url=rabbitmq_url,
                bus_exchange=exchange,
                auth_url=auth_url,
            )
        )
        async with serve_app(accounting) as accounting_url, serve_app(chat) as chat_url:
            settings = ProvisioningSettings(
                environment="test",
                database_url=postgres_databases.create("provisioning"),
                rabbitmq_url=rabbitmq_url,
                bus_exchange=exchange,
                user_registered_queue=bus_namespace.queue_name("prov-stack.provisioning-users"),
                audit_recorded_queue=bus_namespace.queue_name("prov-stack.provisioning-audit"),
                auth_url=auth_url,
                accounting_url=accounting_url,
                chat_url=chat_url,
                default_plan_monthly_credits=DEFAULT_PLAN_CREDITS,
                grant_poll_seconds=0.2,
            )
            app = create_provisioning(settings)
            async with serve_app(app) as provisioning_url:
                # Its consumers declare their queues in the background; an event published
                # before (the first test's registration) would reach no queue of its own.
                await until_ready(provisioning_url)
                yield Stack(auth_url, accounting_url, chat_url, provisioning_url, settings, app)


async def until_ready(url: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=url) as client:
        while (await client.get("/api/health/ready")).status_code != 200:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{url} not ready after {timeout} s")
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(loop_scope="session")
async def api(stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the provisioning service."""
    async with httpx.AsyncClient(base_url=stack.provisioning, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def auth(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.auth, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def accounting(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.accounting, timeout=30) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(auth: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Authorization headers for a demo user."""
    response = await auth.post(
        "/api/auth/login", json={"username": username, "password": DEMO_PASSWORDS[username]}
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["accessToken"])


async def new_user(auth: httpx.AsyncClient) -> dict:
    """A freshly registered enduser: {id, username, email, headers}."""
    name = f"prov{uuid.uuid4().hex[:10]}"
    response = await auth.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "Str0ng-pass!"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "id": body["user"]["id"],
        "username": name,
        "email": f"{name}@example.com",
        "headers": bearer(body["accessToken"]),
    }


def unique_slug(prefix: str = "org") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def new_org(api: httpx.AsyncClient, owner_headers: dict) -> dict:
    response = await api.post(
        "/api/organizations",
        json={"slug": unique_slug(), "name": "Test organization"},
        headers=owner_headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def model_group(api: httpx.AsyncClient, admin: dict, models: list[str]) -> str:
    name = f"group-{uuid.uuid4().hex[:8]}"
    response = await api.post(
        "/api/model-groups", json={"name": name, "models": models}, headers=admin
    )
    assert response.status_code == 201, response.text
    return name


async def audit(api: httpx.AsyncClient, admin: dict, **filters) -> list[dict]:
    response = await api.get("/api/audit-logs", params=filters, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(interval)


def service_headers(service: str = "provisioning") -> dict[str, str]:
    """A token as POST /api/auth/token gives ``service`` (signed with the development key):
    for module-level constants of tests that call ``/internal`` routes themselves."""
    defaults = AuthSettings(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    token, _ = signer.issue_service(
        service=service, scopes=sorted(CLIENT_SCOPES[service]), ttl_seconds=3600
    )
    return bearer(token)
