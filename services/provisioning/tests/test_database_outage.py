"""PostgreSQL unreachable: requests answer 503 database_unavailable at once, never 500, and
the grant worker carries on through failures it did not expect."""

import time
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from infra_fixtures.flaky_pool import FailingPool
from infra_fixtures.proxy import TcpProxy
from provisioning.main import create_app
from provisioning.onboarding.grants import GrantWorker

from .conftest import eventually, login


async def test_provisioning_answers_503_while_postgres_is_unreachable(stack, auth, bus_namespace):
    database = urlsplit(stack.settings.database_url)
    async with TcpProxy(database.hostname or "127.0.0.1", database.port or 5432) as proxy:
        proxied = database._replace(netloc=f"{database.username}@127.0.0.1:{proxy.port}")
        settings = stack.settings.model_copy(
            update={
                "database_url": proxied.geturl(),
                "user_registered_queue": bus_namespace.queue_name(
                    f"prov-outage.{uuid.uuid4().hex[:8]}"
                ),
            }
        )
        app = create_app(settings)
        admin = await login(auth, "admin")
        async with LifespanManager(app, startup_timeout=60):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                before = await client.get("/api/organizations", headers=admin)
                await proxy.cut()
                started = time.monotonic()
                during = await client.get("/api/organizations", headers=admin)
                elapsed = time.monotonic() - started
                await proxy.restore()
                after = await client.get("/api/organizations", headers=admin)

    assert before.status_code == 200, before.text
    assert during.status_code == 503, during.text
    assert during.json()["code"] == "database_unavailable"
    assert during.headers["retry-after"] == "3"
    assert elapsed < 2.5
    assert after.status_code == 200


async def test_the_grant_worker_survives_failures_that_are_not_postgres_errors(stack):
    pool = await asyncpg.create_pool(stack.settings.database_url, min_size=1, max_size=2)
    flaky = FailingPool(pool, failures=2)
    worker = GrantWorker(
        flaky,  # type: ignore[arg-type]
        stack.app.state.grants.accounting,
        poll_seconds=0.01,
        renewal_interval_seconds=3600,
    )
    worker.start()
    try:

        async def delivered_after_failing() -> bool:
            return flaky.attempts > flaky.failures + 1

        assert await eventually(delivered_after_failing, timeout=5)
    finally:
        await worker.stop()
        await pool.close()
