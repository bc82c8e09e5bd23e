"""Request bodies over MAX_BODY_BYTES are 413 in the envelope: a declared Content-Length before
anything is read, a chunked body as soon as it grows past the limit. Nothing is buffered by
the limit itself, and streamed responses still stream."""

import asyncio

import httpx
import pytest
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from infra_fixtures.servers import serve_app
from service_kit import ServiceSettings, create_app

LIMIT = 1024
TOO_LARGE = {
    "message": f"The request body is larger than {LIMIT} bytes",
    "code": "payload_too_large",
}

router = APIRouter()
calls: list[str] = []
release = asyncio.Event()


class Note(BaseModel):
    text: str


@router.post("/notes")
async def note(body: Note) -> dict:
    calls.append("notes")
    return {"length": len(body.text)}


@router.post("/raw")
async def raw(request: Request) -> dict:
    """Reads its own body, piece by piece, as auth's /api/auth/token and the gateway do."""
    calls.append("raw")
    size = 0
    async for piece in request.stream():
        size += len(piece)
    return {"bodyLength": size}


@router.post("/ignores-body")
async def ignores_body() -> dict:
    calls.append("ignores-body")
    return {"ok": True}


@router.get("/events")
async def events() -> StreamingResponse:
    async def pieces():
        yield b"event: first\ndata: {}\n\n"
        await release.wait()
        yield b"event: last\ndata: {}\n\n"

    return StreamingResponse(pieces(), media_type="text/event-stream")


def build(limit: int | None = LIMIT):
    settings = (
        ServiceSettings(service_name="kit-test")
        if limit is None
        else ServiceSettings(service_name="kit-test", max_body_bytes=limit)
    )
    return create_app(settings, title="kit", routers=[router])


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture(scope="module")
async def served():
    async with serve_app(build()) as url, httpx.AsyncClient(base_url=url, timeout=10) as c:
        yield c


def chunks(total: int, size: int = 256):
    async def generate():
        sent = 0
        while sent < total:
            piece = min(size, total - sent)
            sent += piece
            yield b"x" * piece

    return generate()


def json_chunks(text_length: int):
    async def generate():
        yield b'{"text": "'
        for _ in range(text_length // 100):
            yield b"y" * 100
        yield b'"}'

    return generate()


def test_the_limit_is_one_mebibyte_unless_configured(monkeypatch):
    assert ServiceSettings().max_body_bytes == 1_048_576
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    assert ServiceSettings().max_body_bytes == 2048


def test_the_limit_must_be_positive():
    with pytest.raises(ValueError, match="max_body_bytes"):
        ServiceSettings(max_body_bytes=0)


async def test_every_app_has_the_default_limit():
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build(None)), base_url="http://t"
    ) as c:
        over = await c.post("/ignores-body", content=b"z" * (1_048_576 + 1))
        at = await c.post("/raw", content=b"z" * 1_048_576)
    assert over.status_code == 413
    assert over.json()["message"] == "The request body is larger than 1048576 bytes"
    assert (at.status_code, at.json()) == (200, {"bodyLength": 1_048_576})


@pytest.mark.parametrize("path", ["/notes", "/raw", "/ignores-body"])
async def test_a_declared_body_over_the_limit_is_413_before_the_route_runs(served, path):
    calls.clear()
    response = await served.post(path, content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response.headers["x-request-id"]
    assert calls == []
    # The connection and the server are fine afterwards.
    assert (await served.post("/notes", json={"text": "hi"})).json() == {"length": 2}


async def test_a_large_declared_body_is_refused_without_being_read(served):
    response = await served.post("/notes", content=b"x" * (8 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


@pytest.mark.parametrize("path", ["/notes", "/raw"])
async def test_a_chunked_body_growing_past_the_limit_is_413(served, path):
    response = await served.post(path, content=chunks(LIMIT * 4))
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert (await served.post("/notes", json={"text": "ok"})).status_code == 200


async def test_a_chunked_json_body_over_the_limit_is_413_not_a_parse_error(served):
    response = await served.post(
        "/notes", content=json_chunks(LIMIT * 2), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_bodies_of_exactly_the_limit_pass_declared_and_chunked(served):
    sized = await served.post("/raw", content=b"y" * LIMIT)
    chunked = await served.post("/raw", content=chunks(LIMIT))
    assert (sized.status_code, chunked.status_code) == (200, 200)
    assert sized.json() == chunked.json() == {"bodyLength": LIMIT}


async def test_a_streaming_response_still_streams(served):
    release.clear()
    async with served.stream("GET", "/events") as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        # The first event arrives while the route is still waiting to send the last one.
        first = await asyncio.wait_for(anext(lines), 5)
        assert first == "event: first"
        release.set()
        rest = [line async for line in lines]
    assert "event: last" in rest


async def test_413_is_documented_on_every_operation_with_a_body(client):
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    assert paths["/notes"]["post"]["responses"]["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "413" not in paths["/events"]["get"]["responses"]
    assert "ErrorBody" in schema["components"]["schemas"]
