"""One journey through the gateway to the real auth service (PostgreSQL, Redis, RabbitMQ)."""

import pytest
import pytest_asyncio

from auth.config import AuthSettings
from auth.main import create_app as create_auth
from infra_fixtures.servers import serve_app

from ..conftest import bearer

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def through_gateway(
    postgres_databases, redis_url, rabbitmq_url, bus_namespace, start_gateway
):
    auth = create_auth(
        AuthSettings(
            environment="test",
            database_url=postgres_databases.create("gateway_auth"),
            redis_url=redis_url,
            rabbitmq_url=rabbitmq_url,
            bus_exchange=bus_namespace.exchange_name("gateway"),
            seed_demo_users=True,
            argon2_time_cost=1,
            argon2_memory_kib=8192,
        )
    )
    async with serve_app(auth) as auth_url, start_gateway(auth_url=auth_url) as url:
        yield url


async def test_login_and_me_through_the_gateway(http, through_gateway):
    login = await http.post(
        f"{through_gateway}/api/auth/login",
        json={"username": "user1", "password": "User1@123"},
        headers={"X-Request-ID": "journey-1"},
    )
    assert login.status_code == 200, login.text
    assert login.headers.get_list("x-request-id") == ["journey-1"]
    me = await http.get(
        f"{through_gateway}/api/auth/me", headers=bearer(login.json()["accessToken"])
    )
    assert me.status_code == 200
    assert me.json()["username"] == "user1"
    # The JWKS other services fetch is reachable through the gateway too.
    jwks = await http.get(f"{through_gateway}/api/auth/.well-known/jwks.json")
    assert jwks.json()["keys"]


async def test_the_services_own_errors_pass_through_unchanged(http, through_gateway):
    wrong = await http.post(
        f"{through_gateway}/api/auth/login", json={"username": "user1", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "message": "Invalid username or password",
        "code": "invalid_credentials",
    }
    unauthenticated = await http.get(f"{through_gateway}/api/auth/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {
        "message": "Invalid authentication token",
        "code": "invalid_token",
    }
