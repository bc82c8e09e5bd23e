"""Each prefix of CONTRACT.md's table reaches its service, with method, path, query and body
intact; nothing else is proxied."""

import hashlib
import os

import pytest

from ..conftest import header_values

ROUTED = [
    ("GET", "/api/auth/me", "auth"),
    ("POST", "/api/auth/login", "auth"),
    ("GET", "/api/credits/balance", "accounting"),
    ("POST", "/api/credits/allocate", "accounting"),
    ("GET", "/api/usage/stats", "accounting"),
    ("POST", "/api/streaming-sessions/initialize", "accounting"),
    ("GET", "/api/chat/sessions", "chat"),
    ("DELETE", "/api/chat/sessions/abc", "chat"),
    ("GET", "/api/models", "chat"),
    ("POST", "/api/models/recommend", "chat"),
    ("POST", "/v1/chat/completions", "chat"),
    ("GET", "/v1/models", "chat"),
    ("POST", "/api/organizations", "provisioning"),
    ("PATCH", "/api/organizations/org-1", "provisioning"),
    ("GET", "/api/teams/t-1/keys", "provisioning"),
    ("GET", "/api/model-groups", "provisioning"),
    ("PUT", "/api/plans/p-1", "provisioning"),
    ("GET", "/api/audit-logs", "provisioning"),
    ("POST", "/api/byok/keys", "provisioning"),
]


@pytest.mark.parametrize(("method", "path", "service"), ROUTED)
async def test_each_prefix_reaches_its_service(http, gateway, method, path, service):
    body = b'{"hello": "world"}' if method in ("POST", "PUT", "PATCH") else None
    response = await http.request(
        method,
        f"{gateway}{path}?page=2&q=a%20b",
        content=body,
        headers={"Content-Type": "application/json"} if body else {},
    )
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["service"] == service
    assert (echoed["method"], echoed["path"], echoed["query"]) == (method, path, "page=2&q=a%20b")
    if body:
        assert echoed["body"] == body.decode()
        assert header_values(echoed, "content-length") == [str(len(body))]
        assert header_values(echoed, "content-type") == ["application/json"]


async def test_the_path_reaches_the_service_exactly_as_sent(http, gateway):
    response = await http.get(f"{gateway}/api/chat/sessions/a%2Fb/messages%20x")
    assert response.json()["rawPath"] == "/api/chat/sessions/a%2Fb/messages%20x"


@pytest.mark.parametrize(
    "path",
    ["/", "/api", "/api/nothing", "/api/chatty", "/api/authentication", "/v2/models", "/v1x"],
)
async def test_an_unknown_prefix_is_404_in_the_envelope(http, gateway, path):
    response = await http.get(f"{gateway}{path}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found", "code": "not_found"}
    assert response.headers["x-request-id"]


async def test_a_method_no_service_uses_is_405_in_the_envelope(http, gateway):
    response = await http.request("TRACE", f"{gateway}/api/chat/sessions")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_a_large_body_is_streamed_to_the_service_both_chunked_and_sized(http, start_gateway):
    payload = os.urandom(3 * 1024 * 1024)

    async def chunks():
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    digest = hashlib.sha256(payload).hexdigest()
    async with start_gateway(max_body_bytes=len(payload)) as gateway:
        chunked = await http.post(f"{gateway}/api/chat/upload", content=chunks())
        sized = await http.post(f"{gateway}/api/chat/upload", content=payload)
    for response in (chunked, sized):
        assert response.status_code == 200
        assert (response.json()["bodyLength"], response.json()["bodySha256"]) == (
            len(payload),
            digest,
        )
    assert header_values(chunked.json(), "transfer-encoding") == ["chunked"]
    assert header_values(sized.json(), "content-length") == [str(len(payload))]


async def test_a_compressed_response_passes_through_untouched(http, gateway):
    async with http.stream("GET", f"{gateway}/api/chat/_test/gzip") as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    decoded = await http.get(f"{gateway}/api/chat/_test/gzip")
    assert decoded.text == "compressed " * 1000


async def test_head_is_forwarded(http, gateway):
    response = await http.head(f"{gateway}/api/models")
    assert response.status_code == 200
    assert response.content == b""
