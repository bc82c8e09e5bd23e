"""Server-Sent Events pass through unbuffered, and a client leaving closes the upstream."""

import asyncio
import logging

import httpx

log = logging.getLogger(__name__)


async def test_the_first_event_reaches_the_client_before_the_second_is_sent(
    http, gateway, upstreams
):
    chat = upstreams["chat"]
    key, control = chat.control()
    loop = asyncio.get_running_loop()
    async with http.stream("GET", f"{gateway}/api/chat/_test/sse/{key}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-request-id"]
        assert response.headers["cache-control"] == "no-cache"
        body = response.aiter_raw()
        async with asyncio.timeout(5):
            first = await anext(body)
        received_at = loop.time()
        # The upstream is still holding the second event back: nothing buffered the first.
        assert b"event: one" in first
        assert not control.release.is_set() and not control.finished.is_set()
        control.release.set()
        async with asyncio.timeout(5):
            rest = b"".join([chunk async for chunk in body])
    assert b"event: two" in rest
    assert control.finished.is_set() and not control.cancelled.is_set()
    log.info(
        "first SSE byte through the gateway %.2f ms after the upstream sent it",
        (received_at - control.first_sent_at) * 1000,
    )


async def test_a_client_disconnect_mid_stream_cancels_the_upstreams_stream(
    http, gateway, upstreams
):
    chat = upstreams["chat"]
    key, control = chat.control()
    async with http.stream("GET", f"{gateway}/api/chat/_test/sse/{key}") as response:
        async with asyncio.timeout(5):
            first = await anext(response.aiter_raw())
        assert b"event: one" in first
    # The client is gone while the upstream waits to send more: the gateway must close its
    # upstream connection at once, so the upstream's generator is cancelled.
    async with asyncio.timeout(5):
        await control.cancelled.wait()
    assert not control.finished.is_set()
    # The gateway is fine afterwards.
    assert (await http.get(f"{gateway}/api/models")).status_code == 200


async def test_an_upstream_stalling_mid_stream_ends_the_response_broken(
    http, start_gateway, upstreams
):
    """Past the read timeout, the client gets a truncated body, never a clean end."""
    chat = upstreams["chat"]
    key, control = chat.control()
    async with start_gateway(upstream_read_timeout_seconds=0.5) as url:
        async with http.stream("GET", f"{url}/api/chat/_test/sse/{key}") as response:
            assert response.status_code == 200
            chunks = response.aiter_raw()
            async with asyncio.timeout(5):
                assert b"event: one" in await anext(chunks)
                try:
                    async for _ in chunks:
                        pass
                    raise AssertionError("the stream ended cleanly")
                except httpx.RemoteProtocolError:
                    pass
        async with asyncio.timeout(5):
            await control.cancelled.wait()
