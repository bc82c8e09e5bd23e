"""PostgreSQL unreachable: login, registration and /me answer 503 database_unavailable with
Retry-After at once, never 500, and work again as soon as it is back."""

import time
from urllib.parse import urlsplit

import httpx
from asgi_lifespan import LifespanManager

from auth.main import create_app
from infra_fixtures.proxy import TcpProxy

from .conftest import bearer, login, make_settings, unique_username


async def test_auth_answers_503_while_postgres_is_unreachable(
    postgres_databases, redis_url, rabbitmq_url, bus_namespace
):
    database = urlsplit(postgres_databases.create("auth_outage"))
    async with TcpProxy(database.hostname or "127.0.0.1", database.port or 5432) as proxy:
        proxied = database._replace(netloc=f"{database.username}@127.0.0.1:{proxy.port}")
        settings = make_settings(proxied.geturl(), redis_url, rabbitmq_url, bus_namespace.exchange)
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                token = (await login(client, "user1", "User1@123")).json()["accessToken"]
                await proxy.cut()
                started = time.monotonic()
                during = [
                    await login(client, "user1", "User1@123"),
                    await client.get("/api/auth/me", headers=bearer(token)),
                    await client.post(
                        "/api/auth/register",
                        json={
                            "username": unique_username(),
                            "email": f"{unique_username()}@example.com",
                            "password": "Str0ng-pass!",
                        },
                    ),
                ]
                elapsed = time.monotonic() - started
                await proxy.restore()
                after = await client.get("/api/auth/me", headers=bearer(token))

    for response in during:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "3"
    assert elapsed < 5
    assert after.status_code == 200
