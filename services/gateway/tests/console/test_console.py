"""The web console's build served at /: its files, index.html for client routes, the API's
paths untouched, caching and the Content-Security-Policy."""

from pathlib import Path

import pytest
import pytest_asyncio

from gateway.console.files import ConsoleNotBuilt
from gateway.main import create_app

INDEX = b'<!doctype html><script type="module" src="/assets/index-abc123.js"></script>'
SCRIPT = b"console.log('console')"
NOT_FOUND = {"message": "Not found", "code": "not_found"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    (root / "index.html").write_bytes(INDEX)
    (root / "assets").mkdir()
    (root / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (root / "assets" / "index-abc123.css").write_bytes(b"body{}")
    (root / "favicon.svg").write_bytes(b"<svg/>")
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def console(start_gateway, dist):
    async with start_gateway(console_dist_dir=dist) as url:
        yield url


def assert_strict_policy(headers) -> None:
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/chat", "/chat/3f2a-9c", "/admin/credits?user=x", "/apix"])
async def test_the_page_and_every_client_route_get_index_html(http, console, path):
    response = await http.get(f"{console}{path}")
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-request-id"]
    assert_strict_policy(response.headers)


async def test_a_hashed_asset_is_cached_for_a_year(http, console):
    response = await http.get(f"{console}/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.content == SCRIPT
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_strict_policy(response.headers)
    css = await http.get(f"{console}/assets/index-abc123.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"


async def test_a_file_without_a_hash_is_cached_briefly(http, console):
    response = await http.get(f"{console}/favicon.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "public, max-age=3600"


async def test_a_missing_asset_is_404_not_the_page(http, console):
    response = await http.get(f"{console}/assets/index-old999.js")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_an_unchanged_file_is_304(http, console):
    first = await http.get(f"{console}/assets/index-abc123.js")
    again = await http.get(
        f"{console}/assets/index-abc123.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_head_answers_headers_only(http, console):
    response = await http.head(f"{console}/chat")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/api", "/api/nothing", "/api/chatty", "/internal/grants", "/metrics/x", "/docs/x"]
)
async def test_paths_of_the_api_stay_404_in_the_envelope(http, console, path):
    response = await http.get(f"{console}{path}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert "content-security-policy" not in response.headers


async def test_the_services_are_still_reached_and_methods_still_refused(http, console):
    routed = await http.get(f"{console}/api/chat/sessions")
    assert routed.json()["service"] == "chat"
    trace = await http.request("TRACE", f"{console}/api/chat/sessions")
    assert trace.status_code == 405
    post = await http.post(f"{console}/chat")
    assert post.status_code == 405
    assert post.json()["code"] == "method_not_allowed"


async def test_no_path_reaches_a_file_outside_the_build(http, console, dist):
    (dist.parent / "secret.txt").write_text("secret")
    for path in ("/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt", "/..%5csecret.txt"):
        response = await http.get(f"{console}{path}")
        assert b"secret" not in response.content, path
        assert response.status_code in (200, 404), path


async def test_gateway_docs_and_health_are_the_gateways_own(http, console):
    assert (await http.get(f"{console}/api/health")).json()["service"] == "gateway"
    docs = await http.get(f"{console}/openapi.json")
    assert docs.json()["info"]["title"] == "Gateway"


def test_a_dist_without_index_html_refuses_to_start(gateway_settings, tmp_path):
    with pytest.raises(ConsoleNotBuilt, match=r"has no index\.html"):
        create_app(gateway_settings(console_dist_dir=tmp_path))


async def test_without_a_console_the_root_is_404(http, gateway):
    response = await http.get(f"{gateway}/")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
