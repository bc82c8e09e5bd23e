"""Proxied requests skip FastAPI's own layers (``gateway.proxy.direct``), and nothing else
changes: the gateway's own routes still win, what the proxy does not route still goes through
the router, and errors, metrics and CORS are what the full app gives."""

import pytest
from starlette.middleware.cors import CORSMiddleware

from gateway.cors import _vary_origin
from gateway.main import create_app
from gateway.proxy.direct import DirectRoutes, _overlap
from gateway.proxy.router import proxy_routes


def http_scope(path: str, method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_the_longest_prefix_routes_first_and_only_below_itself():
    routes = DirectRoutes(proxy_routes({"/api/chat": "chat", "/api/chat/x": "auth"}), [])
    assert routes.match(http_scope("/api/chat/x/1"))["route"].upstream == "auth"
    assert routes.match(http_scope("/api/chat/xy"))["route"].upstream == "chat"
    assert routes.match(http_scope("/api/chat"))["route"].path == "/api/chat"
    assert routes.match(http_scope("/api/chat/"))["route"].path == "/api/chat/{path:path}"
    assert routes.match(http_scope("/api/chatty")) is None


def test_a_method_the_proxy_does_not_route_is_left_to_the_router():
    routes = DirectRoutes(proxy_routes({"/api/chat": "chat"}), [])
    assert routes.match(http_scope("/api/chat/x", "TRACE")) is None


def test_a_prefix_one_of_the_gateways_own_paths_lies_under_is_left_to_the_router():
    routes = DirectRoutes(proxy_routes({"/api": "auth", "/v1": "chat"}), ["/api/health", "/docs"])
    assert routes.match(http_scope("/api/auth/me")) is None
    assert routes.match(http_scope("/v1/models"))["route"].upstream == "chat"


@pytest.mark.parametrize(
    ("own", "prefix", "overlap"),
    [
        ("/api/health", "/api", True),
        ("/api/health", "/api/health", True),
        ("/api/health", "/api/auth", False),
        ("/docs/assets", "/docs/assets/x", True),  # a mount with a prefix under it
        ("/api/{name}", "/api/auth", True),
        ("/api/au{name}", "/api/auth", True),
        ("/api/auth/{id}/x", "/api/auth", True),
        ("/other/{name}", "/api/auth", False),
        ("/api/authx", "/api/auth", False),
    ],
)
def test_what_may_match_an_own_route_is_left_to_the_router(own, prefix, overlap):
    assert _overlap(own, prefix) is overlap


async def test_own_routes_answer_under_a_prefix_that_covers_them(http, start_gateway):
    async with start_gateway(routes={"/api": "auth"}) as url:
        health = await http.get(f"{url}/api/health")
        proxied = await http.get(f"{url}/api/auth/me")
    assert health.json()["status"] == "ok"
    assert proxied.json()["service"] == "auth"


async def test_a_method_nobody_routes_is_405_in_the_envelope(http, gateway):
    response = await http.request("TRACE", f"{gateway}/api/chat/sessions")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["x-request-id"]


async def test_a_proxied_request_is_counted_under_its_route_template(http, gateway):
    await http.get(f"{gateway}/api/models/direct-metrics")
    metrics = (await http.get(f"{gateway}/metrics")).text
    assert (
        'http_requests_total{method="GET",route="/api/models/{path:path}",service="gateway",'
        'status="200"}' in metrics
    )


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"vary", b"Accept")],
        [(b"content-type", b"text/plain"), (b"vary", b"Accept"), (b"vary", b"Cookie")],
        [(b"vary", b"Accept-Encoding"), (b"x-a", b"1"), (b"vary", b"Cookie"), (b"x-b", b"2")],
    ],
)
async def test_without_origin_the_response_varies_as_starlettes_cors_makes_it(headers):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    cors = CORSMiddleware(app, allow_origins=["https://app.example.com"])
    await cors(http_scope("/api/x"), receive, send)
    assert _vary_origin(headers) == sent[0]["headers"]


def test_every_configured_prefix_takes_the_direct_path(gateway_settings):
    settings = gateway_settings()
    direct = create_app(settings)._build_direct()
    assert direct is not None
    routes, _ = direct
    for prefix, upstream in settings.routes.items():
        child = routes.match(http_scope(prefix + "/x"))
        assert child is not None and child["route"].upstream == upstream, prefix
