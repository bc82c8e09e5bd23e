"""``/api/health/ready`` checks Redis and every upstream's readiness at once, names what is
down, and lets upstreams named optional (none by default) be down."""

import asyncio
import time

from infra_fixtures.servers import serve_app

from ..conftest import closed_port_url, silent_server, upstream_app


async def test_ready_when_every_required_upstream_is(http, start_gateway):
    async with start_gateway(
        provisioning_url=closed_port_url(), optional_upstreams=["provisioning"]
    ) as url:
        response = await http.get(f"{url}/api/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["service"] == "gateway"
    assert body["checks"] == {"redis": "ok"}
    assert body["services"] == {
        "auth": "ok",
        "accounting": "ok",
        "chat": "ok",
        "provisioning": "down",
    }
    assert body["optional"] == ["provisioning"]


async def test_a_required_upstream_down_is_503_naming_it(http, start_gateway):
    async with start_gateway(chat_url=closed_port_url()) as url:
        response = await http.get(f"{url}/api/health/ready")
        liveness = await http.get(f"{url}/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["message"] == "Not ready: chat unavailable"
    assert body["details"]["services"]["chat"] == "down"
    assert body["details"]["services"]["auth"] == "ok"
    assert response.headers["x-request-id"]
    assert liveness.json() == {"status": "ok", "service": "gateway"}


async def test_an_upstream_that_is_not_ready_itself_counts_as_down(http, start_gateway):
    app = upstream_app("accounting")
    app.state.readiness_checks["postgres"] = _failing
    async with serve_app(app) as accounting, start_gateway(accounting_url=accounting) as url:
        response = await http.get(f"{url}/api/health/ready")
    assert response.status_code == 503
    assert response.json()["details"]["services"]["accounting"] == "down"


async def test_by_default_provisioning_down_is_503(http, start_gateway):
    async with start_gateway(provisioning_url=closed_port_url()) as url:
        response = await http.get(f"{url}/api/health/ready")
    assert response.status_code == 503
    assert response.json()["message"] == "Not ready: provisioning unavailable"


async def test_redis_down_is_503_naming_it(http, start_gateway):
    async with start_gateway(redis_url=closed_port_url("redis")) as url:
        response = await http.get(f"{url}/api/health/ready")
    assert response.status_code == 503
    assert response.json()["message"] == "Not ready: redis unavailable"
    assert response.json()["details"]["checks"] == {"redis": "down"}


async def test_upstreams_are_asked_at_once_with_a_short_timeout(http, start_gateway):
    async with (
        silent_server() as auth,
        silent_server() as chat,
        start_gateway(auth_url=auth, chat_url=chat, readiness_timeout_seconds=0.5) as url,
    ):
        started = time.monotonic()
        response = await http.get(f"{url}/api/health/ready")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["message"] == "Not ready: auth, chat unavailable"
    assert elapsed < 0.95  # two silent upstreams, 0.5 s each, asked concurrently


async def _failing() -> None:
    await asyncio.sleep(0)
    raise ConnectionError("database down")
