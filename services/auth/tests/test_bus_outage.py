"""A registration made while RabbitMQ is unreachable is announced once it is back, and the
service stays ready meanwhile (degraded): the outbox covers the outage."""

import asyncio
from urllib.parse import urlsplit

import httpx
from asgi_lifespan import LifespanManager

from auth.main import create_app
from infra_fixtures.proxy import TcpProxy

from .conftest import collect_events, make_settings, register, registered_events_queue


async def until_ready(client: httpx.AsyncClient, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await client.get("/api/health/ready")).json().get("status") != "ready":
        assert asyncio.get_running_loop().time() < deadline, "auth never became ready"
        await asyncio.sleep(0.05)


async def test_registration_during_a_broker_outage_is_announced_exactly_once(
    postgres_databases, redis_url, rabbitmq_url, bus_namespace
):
    broker = urlsplit(rabbitmq_url)
    async with TcpProxy(broker.hostname, broker.port or 5672) as proxy:
        proxied = rabbitmq_url.replace(
            f"{broker.hostname}:{broker.port}", f"127.0.0.1:{proxy.port}"
        )
        settings = make_settings(
            postgres_databases.create("outage"),
            redis_url,
            proxied,
            bus_namespace.exchange,
            seed_demo_users=False,  # only this test's registration may reach the probe queue
        )
        async with registered_events_queue(rabbitmq_url, bus_namespace, "outage") as queue:
            app = create_app(settings)
            async with LifespanManager(app, startup_timeout=60):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                    await until_ready(client)  # its consumer's queue is declared
                    await proxy.cut()
                    ready = await client.get("/api/health/ready")
                    body = await register(client)
                    await asyncio.sleep(1.0)  # the relay tries, fails and backs off meanwhile
                    during = await queue.get(fail=False)
                    pending = await app.state.outbox_relay.pending_count()
                    await proxy.restore()
                    events = await collect_events(
                        queue, want_user=body["user"]["id"], settle_seconds=2.0, deadline=30
                    )

    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "rabbitmq": "down"}
    assert during is None, "nothing can arrive while the broker is cut off"
    assert pending >= 1
    assert len(events) == 1
    assert events[0]["username"] == body["user"]["username"]
