import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from service_kit import ApiError, Degradable, ServiceSettings, create_app

router = APIRouter()


class Login(BaseModel):
    username: str
    password: str


@router.post("/things/{thing_id}")
async def make_thing(thing_id: int, body: Login) -> dict:
    return {"id": thing_id}


@router.get("/boom")
async def boom() -> dict:
    raise RuntimeError("secret internals /etc/passwd")


@router.get("/teapot")
async def teapot() -> dict:
    raise ApiError(402, "insufficient_credits", "Insufficient credits", details={"need": 3})


def build(checks=None):
    app = create_app(ServiceSettings(service_name="kit-test"), title="kit", routers=[router])
    app.state.readiness_checks.update(checks or {})
    return app


@pytest.fixture
def client():
    transport = httpx.ASGITransport(app=build(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_unknown_route_gets_the_envelope(client):
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found", "code": "not_found"}


@pytest.mark.parametrize("path", ["/teapot/", "/things/7%2F"])
async def test_a_trailing_slash_is_not_found_never_a_redirect(client, path):
    # A path value ending in %2F used to get a 307 to another resource (behind the gateway
    # with the service's own address in Location); found by the end-to-end schemathesis suite.
    response = await client.request("GET" if path == "/teapot/" else "POST", path, json={})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "location" not in response.headers


async def test_wrong_method_gets_the_envelope(client):
    response = await client.delete("/boom")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_validation_error_names_the_field_and_never_echoes_input(client):
    response = await client.post("/things/7", json={"username": "u", "password": 12345678})
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_error"
    assert "body.password" in body["message"]
    assert "12345678" not in response.text


async def test_non_numeric_path_parameter_is_a_validation_error(client):
    response = await client.post("/things/abc", json={"username": "u", "password": "p"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "path.thing_id"


@pytest.mark.parametrize("body", [b"{not json", b'{"username": "\xff", "password": "p"}'])
async def test_a_malformed_json_body_is_a_validation_error(client, body):
    # Bytes that are not UTF-8 are malformed JSON too: 422 like a syntax error, never a 400
    # that no operation documents.
    response = await client.post(
        "/things/7", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_unhandled_error_is_a_500_envelope_without_internals(client):
    response = await client.get("/boom", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error", "code": "internal_error"}
    assert "passwd" not in response.text
    assert response.headers["x-request-id"] == "abc-123"


async def test_api_error_carries_code_and_details(client):
    response = await client.get("/teapot")
    assert response.status_code == 402
    assert response.json() == {
        "message": "Insufficient credits",
        "code": "insufficient_credits",
        "details": {"need": 3},
    }


async def test_request_id_is_echoed_or_minted(client):
    echoed = await client.get("/api/health", headers={"X-Request-ID": "req-42"})
    minted = await client.get("/api/health")
    hostile = await client.get("/api/health", headers={"X-Request-ID": "a\tb" * 100})
    assert echoed.headers["x-request-id"] == "req-42"
    assert len(minted.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "a\tb" * 100


async def test_health_names_the_service(client):
    response = await client.get("/api/health")
    assert response.json() == {"status": "ok", "service": "kit-test"}


async def test_readiness_names_the_dependency_that_is_down():
    async def ok():
        return None

    async def down():
        raise ConnectionError("refused")

    app = build({"postgres": ok, "rabbitmq": down})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["message"] == "Not ready: rabbitmq unavailable"
    assert response.json()["details"]["checks"] == {"postgres": "ok", "rabbitmq": "down"}


async def test_readiness_is_200_when_all_checks_pass():
    async def ok():
        return None

    app = build({"postgres": ok})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok"}


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("refused")


async def test_readiness_is_200_degraded_when_only_a_degradable_check_fails():
    app = build({"postgres": _ok, "rabbitmq": Degradable(_down)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "service": "kit-test",
        "checks": {"postgres": "ok", "rabbitmq": "down"},
    }


async def test_readiness_is_503_when_a_required_check_fails_whatever_else_is_degradable():
    app = build({"postgres": _down, "rabbitmq": Degradable(_down)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"
    assert response.json()["details"]["checks"] == {"postgres": "down", "rabbitmq": "down"}


async def test_a_degradable_check_is_required_while_its_outage_is_not_covered():
    # A consumer whose queue was never declared would lose the events published meanwhile.
    covered = False
    app = build({"postgres": _ok, "rabbitmq": Degradable(_down, covered=lambda: covered)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        before = await c.get("/api/health/ready")
        covered = True
        after = await c.get("/api/health/ready")
    assert before.status_code == 503
    assert before.json()["message"] == "Not ready: rabbitmq unavailable"
    assert after.status_code == 200
    assert after.json()["status"] == "degraded"


async def test_readiness_with_a_degradable_check_that_answers_is_ready():
    app = build({"postgres": _ok, "rabbitmq": Degradable(_ok)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_openapi_documents_ready_and_degraded(client):
    schema = (await client.get("/openapi.json")).json()
    ok = schema["paths"]["/api/health/ready"]["get"]["responses"]["200"]
    assert "degraded" in ok["description"]
    body = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    status = schema["components"]["schemas"][body]["properties"]["status"]
    assert status["enum"] == ["ready", "degraded"]


async def test_metrics_count_requests_by_route_template(client):
    await client.post("/things/1", json={"username": "u", "password": "p"})
    await client.post("/things/2", json={"username": "u", "password": "p"})
    text = (await client.get("/metrics")).text
    assert (
        'http_requests_total{method="POST",route="/things/{thing_id}",'
        'service="kit-test",status="200"}'
    ) in text
    assert 'route="/things/1"' not in text
    assert "http_request_duration_seconds_bucket" in text


async def test_openapi_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/things/{thing_id}" in response.json()["paths"]


async def test_each_request_is_counted_once_per_label_set(client):
    def count(text: str, status: str) -> float:
        series = (
            f'http_requests_total{{method="GET",route="/teapot",service="kit-test",'
            f'status="{status}"}} '
        )
        line = next((line for line in text.splitlines() if line.startswith(series)), None)
        return float(line.split()[-1]) if line else 0.0

    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get("/teapot")).status_code == 402
    after = (await client.get("/metrics")).text
    assert count(after, "402") - count(before, "402") == 3
    assert count(after, "200") == count(before, "200")


async def test_each_request_writes_one_access_line(client, caplog):
    caplog.set_level("INFO", logger="service_kit.access")
    await client.get("/teapot", headers={"X-Request-ID": "access-line-1"})
    await client.get("/api/health")  # quiet: probes would drown the log
    lines = [r for r in caplog.records if r.name == "service_kit.access"]
    assert [r.getMessage() for r in lines] == ["GET /teapot 402"]
    (line,) = lines
    assert (line.levelname, line.status, line.route) == ("INFO", 402, "/teapot")
    assert isinstance(line.durationMs, float)


async def test_requests_do_not_consult_opentelemetry(client, monkeypatch):
    """FastAPI's native OpenTelemetry looks up OTel's global providers on every request; the
    platform's metrics are Prometheus, so the kit turns it off."""
    from opentelemetry import _logs, metrics, trace

    looked_up: list[str] = []
    for module, name in (
        (trace, "get_tracer_provider"),
        (metrics, "get_meter_provider"),
        (_logs, "get_logger_provider"),
    ):
        original = getattr(module, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            looked_up.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    response = await client.post("/things/1", json={"username": "a", "password": "b"})
    assert response.status_code == 200
    assert looked_up == []
