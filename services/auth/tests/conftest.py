import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
import httpx
import orjson
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key
from auth.main import create_app
from auth.service_clients.registry import CLIENT_SCOPES

_counter = itertools.count()


def unique_username(prefix: str = "u") -> str:
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:8]}"


def make_settings(postgres_url, redis_url, rabbitmq_url, exchange, **overrides) -> AuthSettings:
    values = {
        "environment": "test",
        "database_url": postgres_url,
        "redis_url": redis_url,
        "rabbitmq_url": rabbitmq_url,
        "bus_exchange": exchange,
        "seed_demo_users": True,
        # Cheap hashing keeps the suite fast; the benchmark reports the production parameters.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "login_max_failures": 5,
        "login_max_failures_per_ip": 1000,
        "login_failure_window_seconds": 60,
        **overrides,
    }
    return AuthSettings(**values)


@pytest.fixture(scope="session")
def settings(postgres_url, redis_url, rabbitmq_url, bus_namespace) -> AuthSettings:
    return make_settings(postgres_url, redis_url, rabbitmq_url, bus_namespace.exchange)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(settings) -> AsyncIterator:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60):
        yield application


def client_for(app, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://auth")


@pytest_asyncio.fixture(loop_scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


async def register(client, username=None, password="Str0ng-pass!", email=None) -> dict:
    username = username or unique_username()
    response = await client.post(
        "/api/auth/register",
        json={
            "username": username,
            "email": email or f"{username}@example.com",
            "password": password,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def login(client, username, password) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def admin_token(client) -> str:
    response = await login(client, "admin", "admin@admin")
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


@asynccontextmanager
async def registered_events_queue(rabbitmq_url, bus_namespace, name: str):
    """A queue bound to ``user.registered`` on the run's exchange, open for the block."""
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            bus_namespace.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(bus_namespace.queue_name(name))
        await queue.bind(exchange, "user.registered")
        yield queue


async def collect_events(queue, *, want_user: str, settle_seconds: float, deadline: float = 10.0):
    """Collect the events about ``want_user``; after the first, wait a while for duplicates."""
    found = []
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        event = orjson.loads(message.body)
        if event.get("userId") == want_user:
            found.append(event)
            end = min(end, loop.time() + settle_seconds)
    return found


def service_headers(service: str) -> dict[str, str]:
    """A token as POST /api/auth/token gives ``service`` (signed with the development key):
    for module-level constants of tests that call ``/internal`` routes."""
    defaults = AuthSettings(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    token, _ = signer.issue_service(
        service=service, scopes=sorted(CLIENT_SCOPES[service]), ttl_seconds=3600
    )
    return {"Authorization": f"Bearer {token}"}
