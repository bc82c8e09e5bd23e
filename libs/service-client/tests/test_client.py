"""The service client against a real HTTP peer: what it sends, one token for many calls, a
refused token renewed once, URL-encoded segments, and 503 when the peer or auth is down."""

import asyncio
import base64

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from infra_fixtures.servers import serve_app
from service_client import ServiceClient, ServiceTokens
from service_kit import ApiError, ServiceSettings, create_app
from service_kit.request_context import request_id_var


def peer_app(state: dict):
    router = APIRouter()

    @router.post("/api/auth/token")
    async def token(request: Request) -> JSONResponse:
        state["token_calls"] += 1
        sent = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        if sent != "chat:s3cret":
            return JSONResponse({"message": "no", "code": "invalid_client"}, 401)
        await asyncio.sleep(0.05)
        return JSONResponse(
            {
                "access_token": f"t{state['token_calls']}",
                "token_type": "Bearer",
                "expires_in": 600,
                "scope": "x",
            }
        )

    @router.api_route("/echo/{rest:path}", methods=["GET", "POST"])
    async def echo(request: Request, rest: str) -> JSONResponse:
        auth = request.headers.get("authorization")
        if auth in state["refuse"]:
            return JSONResponse({"message": "stale", "code": "invalid_token"}, 401)
        return JSONResponse(
            {
                "path": request.scope["raw_path"].decode(),
                "query": request.url.query,
                "authorization": auth,
                "onBehalfOf": request.headers.get("x-on-behalf-of"),
                "requestId": request.headers.get("x-request-id"),
                "body": (await request.body()).decode(),
            }
        )

    @router.post("/headers")
    async def headers(request: Request) -> JSONResponse:
        state["seen"].append(request.headers.get("authorization"))
        if request.headers.get("authorization") in state["refuse"]:
            return JSONResponse({"message": "stale", "code": "invalid_token"}, 401)
        return JSONResponse({name: request.headers.getlist(name) for name in request.headers})

    return create_app(ServiceSettings(environment="test"), title="peer", routers=[router])


@pytest.fixture
async def peer():
    state = {"token_calls": 0, "refuse": set(), "seen": []}
    async with serve_app(peer_app(state)) as url:
        tokens = ServiceTokens(url, "chat", "s3cret")
        client = ServiceClient(url, "ledger", tokens)
        yield client, state
        await client.aclose()
        await tokens.aclose()


async def test_a_call_carries_the_services_token_the_user_and_the_request_id(peer):
    client, _ = peer
    request_id = request_id_var.set("rid-7")
    try:
        reply = await client.request(
            "POST", "/echo/x", json_body={"a": 1}, on_behalf_of="user-token"
        )
    finally:
        request_id_var.reset(request_id)
    assert reply.json() == {
        "path": "/echo/x",
        "query": "",
        "authorization": "Bearer t1",
        "onBehalfOf": "Bearer user-token",
        "requestId": "rid-7",
        "body": '{"a": 1}',
    }


async def test_a_user_route_is_called_with_the_users_token_alone(peer):
    client, state = peer
    reply = await client.request("GET", "/echo/me", user_token="user-token")
    assert reply.json()["authorization"] == "Bearer user-token"
    assert state["token_calls"] == 0


async def test_segments_are_encoded_and_stay_one_segment(peer):
    client, _ = peer
    reply = await client.request("GET", "/echo/users/{}", "a/../b?c", params={"q": "x y"})
    assert reply.json()["path"] == "/echo/users/a%2F..%2Fb%3Fc"
    assert reply.json()["query"] == "q=x+y"


async def test_many_calls_at_once_share_one_token(peer):
    client, state = peer
    replies = await asyncio.gather(*(client.request("GET", "/echo/n") for _ in range(20)))
    assert {r.json()["authorization"] for r in replies} == {"Bearer t1"}
    assert state["token_calls"] == 1


async def test_a_refused_token_is_renewed_once(peer):
    client, state = peer
    await client.request("GET", "/echo/warm")
    state["refuse"].add("Bearer t1")
    reply = await client.request("GET", "/echo/again")
    assert reply.json()["authorization"] == "Bearer t2"
    state["refuse"].add("Bearer t2")
    state["refuse"].add("Bearer t3")
    refused = await client.request("GET", "/echo/still")
    assert refused.status == 401  # renewed once, then the answer is the caller's to judge


async def test_a_calls_own_headers_go_along_also_when_its_token_is_renewed(peer):
    client, state = peer
    sent = {"Idempotency-Key": "team-key:7", "X-Trace": "a b"}
    first = await client.request("POST", "/headers", json_body={}, headers=sent)
    assert first.json()["idempotency-key"] == ["team-key:7"]
    assert first.json()["x-trace"] == ["a b"]
    assert first.json()["authorization"] == ["Bearer t1"]
    state["refuse"].add("Bearer t1")
    renewed = await client.request("POST", "/headers", json_body={}, headers=sent)
    assert state["seen"][-2:] == ["Bearer t1", "Bearer t2"]
    assert renewed.json()["idempotency-key"] == ["team-key:7"]
    assert renewed.json()["authorization"] == ["Bearer t2"]


@pytest.mark.parametrize(
    "name", ["Authorization", "x-on-behalf-of", "Content-Type", "X-Request-ID", "Host"]
)
async def test_a_header_the_client_sets_itself_is_refused(peer, name):
    client, state = peer
    with pytest.raises(ValueError, match=name):
        await client.request("POST", "/headers", headers={name: "mine"})
    assert state["seen"] == []  # nothing was sent


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\0"])
async def test_a_header_with_a_line_break_is_refused(peer, value):
    client, state = peer
    with pytest.raises(ValueError, match="line break"):
        await client.request("POST", "/headers", headers={"Idempotency-Key": value})
    assert state["seen"] == []


async def test_an_unreachable_peer_is_503_with_retry_after():
    tokens = ServiceTokens("http://127.0.0.1:9", "chat", "s3cret")
    client = ServiceClient("http://127.0.0.1:9", "ledger", tokens)
    try:
        with pytest.raises(ApiError) as failed:
            await client.request("GET", "/echo/x", user_token="u")
        assert (failed.value.status, failed.value.code) == (503, "ledger_unavailable")
        assert failed.value.headers == {"Retry-After": "5"}
        with pytest.raises(ApiError) as no_token:
            await client.request("GET", "/echo/x")
        assert (no_token.value.status, no_token.value.code) == (503, "auth_unavailable")
    finally:
        await client.aclose()
        await tokens.aclose()


async def test_wrong_credentials_are_the_peer_unavailable_not_a_crash():
    state = {"token_calls": 0, "refuse": set(), "seen": []}
    async with serve_app(peer_app(state)) as url:
        tokens = ServiceTokens(url, "chat", "wrong")
        client = ServiceClient(url, "ledger", tokens)
        try:
            with pytest.raises(ApiError) as failed:
                await client.request("GET", "/echo/x")
            assert failed.value.status == 503
        finally:
            await client.aclose()
            await tokens.aclose()
