"""Request bodies: over MAX_BODY_BYTES is 413 (declared or streamed), and a request with both
Transfer-Encoding and Content-Length is 400, in the envelope and never forwarded."""

import asyncio

import httpx

from gateway.main import create_app

from ..conftest import closed_port_url, header_values

MiB = 1024 * 1024


async def test_a_declared_body_over_the_limit_is_413_before_anything_is_sent(http, start_gateway):
    # The upstream is down: had the gateway tried to forward, the answer would be 502.
    async with start_gateway(chat_url=closed_port_url()) as url:
        response = await http.post(f"{url}/api/chat/upload", content=b"x" * (2 * MiB))
    assert response.status_code == 413
    assert response.json() == {
        "message": "The request body is larger than 1048576 bytes",
        "code": "payload_too_large",
    }
    assert response.headers["x-request-id"]


async def test_a_streamed_body_growing_past_the_limit_is_cut_off_with_413(http, gateway):
    async def chunks():
        for _ in range(32):
            yield b"x" * (64 * 1024)  # 2 MiB in all, no Content-Length

    response = await http.post(f"{gateway}/api/chat/upload", content=chunks())
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    # The gateway is fine afterwards.
    assert (await http.get(f"{gateway}/api/models")).status_code == 200


async def test_a_body_of_exactly_the_limit_is_forwarded(http, start_gateway):
    async def chunks():
        yield b"y" * 512
        yield b"y" * 512

    async with start_gateway(max_body_bytes=1024) as url:
        sized = await http.post(f"{url}/api/chat/upload", content=b"y" * 1024)
        chunked = await http.post(f"{url}/api/chat/upload", content=chunks())
        over = await http.post(f"{url}/api/chat/upload", content=b"y" * 1025)
    assert [sized.status_code, chunked.status_code, over.status_code] == [200, 200, 413]
    assert sized.json()["bodyLength"] == chunked.json()["bodyLength"] == 1024


async def test_transfer_encoding_with_content_length_is_400_in_the_envelope(gateway_settings):
    # uvicorn's default HTTP parser (httptools) already refuses such a request itself, before
    # the app (see the next test); this is the gateway's own check, for servers that pass it on.
    app = create_app(gateway_settings())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        smuggled = await client.post(
            "/api/chat/sessions", content=b"abc", headers={"Transfer-Encoding": "chunked"}
        )
        plain = await client.post("/api/chat/sessions", content=b"abc")
    assert smuggled.request.headers["content-length"] == "3"  # both really were sent
    assert smuggled.status_code == 400
    assert smuggled.json() == {
        "message": "A request may not carry both Transfer-Encoding and Content-Length",
        "code": "bad_request",
    }
    assert plain.status_code == 200
    assert header_values(plain.json(), "content-length") == ["3"]


async def test_the_served_gateway_never_forwards_transfer_encoding_with_content_length(
    start_gateway,
):
    async with start_gateway(chat_url=closed_port_url()) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /api/chat/sessions HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(5):
            answer = await reader.read(200)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
