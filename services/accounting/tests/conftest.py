"""Accounting against real PostgreSQL and RabbitMQ, with the real auth service in-process:
tokens come from logging in, keys from its JWKS, accounts from its user.registered events."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from accounting.config import AccountingSettings
from accounting.main import create_app as create_accounting
from auth.config import AuthSettings
from auth.config import AuthSettings as _AuthDefaults
from auth.keys.signing import build_signer, load_signing_key
from auth.main import create_app as create_auth
from auth.service_clients.registry import CLIENT_SCOPES
from infra_fixtures.servers import serve_app

from .fake_provisioning import FakeProvisioning


@pytest.fixture(scope="session")
def accounting_settings(
    postgres_databases, rabbitmq_url, bus_namespace, auth_url, provisioning
) -> AccountingSettings:
    return AccountingSettings(
        environment="test",
        database_url=postgres_databases.create("accounting"),
        rabbitmq_url=rabbitmq_url,
        bus_exchange=bus_namespace.exchange,
        user_registered_queue=bus_namespace.queue_name("accounting.user-registered"),
        usage_recorded_queue=bus_namespace.queue_name("accounting.usage-recorded"),
        auth_url=auth_url,
        provisioning_url=provisioning.url,
        hold_sweep_interval_seconds=3600,  # tests sweep explicitly
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def auth_url(postgres_databases, redis_url, rabbitmq_url, bus_namespace) -> AsyncIterator:
    """The real auth service over HTTP: accounting verifies with its JWKS and looks users up
    there with its own service token."""
    settings = AuthSettings(
        environment="test",
        database_url=postgres_databases.create("auth"),
        redis_url=redis_url,
        rabbitmq_url=rabbitmq_url,
        bus_exchange=bus_namespace.exchange,
        seed_demo_users=True,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
    )
    async with serve_app(create_auth(settings)) as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def provisioning() -> AsyncIterator[FakeProvisioning]:
    """Provisioning faked over HTTP: the organizations exports by organization ask about."""
    fake = FakeProvisioning()
    async with serve_app(fake.app()) as url:
        fake.url = url
        yield fake


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(accounting_settings) -> AsyncIterator:
    application = create_accounting(accounting_settings)
    async with LifespanManager(application, startup_timeout=60):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://accounting") as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def auth(auth_url) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_url, timeout=30) as c:
        yield c


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db(accounting_settings, app) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(accounting_settings.database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


DEMO_PASSWORDS = {
    "admin": "admin@admin",
    "supervisor1": "Supervisor1@",
    "user1": "User1@123",
    "user2": "User2@123",
}


async def token(auth: httpx.AsyncClient, username: str) -> str:
    response = await auth.post(
        "/api/auth/login", json={"username": username, "password": DEMO_PASSWORDS[username]}
    )
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


async def new_user(auth: httpx.AsyncClient) -> dict:
    """A freshly registered user: {id, username, token}."""
    name = f"acct{uuid.uuid4().hex[:10]}"
    response = await auth.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "Str0ng-pass!"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "id": body["user"]["id"],
        "username": name,
        "token": body["accessToken"],
        "chat": await service_token(auth),  # the service that reserves and settles for them
    }


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def allocate(client, admin_token: str, target: str, credits, **extra) -> httpx.Response:
    return await client.post(
        "/api/credits/allocate",
        json={"targetUserId": target, "credits": credits, **extra},
        headers=bearer(admin_token),
    )


async def funded_user(client, auth, credits) -> dict:
    user = await new_user(auth)
    response = await allocate(client, await token(auth, "admin"), user["username"], credits)
    assert response.status_code == 201, response.text
    return user


async def balance(client, user) -> dict:
    response = await client.get("/api/credits/balance", headers=bearer(user["token"]))
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(interval)


async def service_token(auth: httpx.AsyncClient, service: str = "chat") -> str:
    """A service's own token, as that service gets it (client credentials, dev secret)."""
    response = await auth.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(service, f"dev-{service}-client-secret"),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def on_behalf(user: dict) -> dict[str, str]:
    """Headers of chat's calls for ``user`` (a new_user): its service token, their token."""
    return {**bearer(user["chat"]), "X-On-Behalf-Of": f"Bearer {user['token']}"}


def signed_service_headers(service: str) -> dict[str, str]:
    """What ``service_token`` gives, signed here with auth's development key: for module-level
    constants of tests that call ``/internal`` routes as that service."""
    defaults = _AuthDefaults(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    token, _ = signer.issue_service(
        service=service, scopes=sorted(CLIENT_SCOPES[service]), ttl_seconds=3600
    )
    return bearer(token)
