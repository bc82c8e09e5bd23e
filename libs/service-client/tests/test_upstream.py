"""The upstream pool (aiohttp set up for the platform), against raw servers that answer byte
for byte."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from service_client import (
    Timeouts,
    UpstreamBodyError,
    UpstreamPool,
    UpstreamTimeout,
    UpstreamUnavailable,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server running ``handler`` per connection; yields its URL and a connection count."""
    connections: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writers.append(writer)
        with contextlib.suppress(Exception):
            await handler(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", connections
    finally:
        for writer in writers:
            writer.close()
        server.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request; the body by Content-Length or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = b""
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        return head, body
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return head, await reader.readexactly(int(line.split(b":")[1]))
    return head, b""


def answering(*answers: bytes) -> Handler:
    """Answers each request on a connection with the next of ``answers`` (then keeps it)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await read_request(reader)
            writer.write(answer)
            await writer.drain()
        await reader.read()

    return handler


def pool(url: str, **overrides) -> UpstreamPool:
    timeouts = Timeouts(
        connect=overrides.pop("connect", 1),
        read=overrides.pop("read", 1),
        write=overrides.pop("write", 1),
        pool=overrides.pop("pool_timeout", 1),
    )
    return UpstreamPool(url, timeouts, **({"max_connections": 10} | overrides))


async def body_of(reply) -> bytes:
    try:
        return b"".join([piece async for piece in _pieces(reply)])
    finally:
        reply.close()


async def _pieces(reply) -> AsyncIterator[bytes]:
    while piece := await reply.read():
        yield piece


async def test_a_connection_is_kept_alive_and_reused():
    async with raw_server(answering(OK, OK, OK)) as (url, connections):
        upstreams = pool(url)
        for _ in range(3):
            reply = await upstreams.send("GET", b"/x", [], None)
            assert (reply.status, await body_of(reply)) == (200, b"ok")
        assert len(connections) == 1
        await upstreams.aclose()


async def test_the_request_carries_host_and_framing_and_nothing_else():
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader, writer):
        while True:
            seen.append(await read_request(reader))
            writer.write(OK)

    async def stream():
        yield b"abc"
        yield b""
        yield b"def"

    async with raw_server(handler) as (url, _):
        upstreams = pool(url)
        for method, headers, body in [
            ("GET", [(b"x-a", b"1")], None),
            ("POST", [], None),
            ("POST", [], b"sized"),
            ("PUT", [], stream()),
        ]:
            await body_of(await upstreams.send(method, b"/p?q=1", headers, body))
        await upstreams.aclose()
    port = url.rsplit(":", 1)[1].encode()
    expected = b"GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + port + b"\r\nx-a: 1\r\n\r\n"
    assert seen[0] == (expected, b"")
    assert b"\r\nContent-Length: 0\r\n" in seen[1][0]
    assert b"\r\nContent-Length: 5\r\n" in seen[2][0] and seen[2][1] == b"sized"
    assert b"\r\nTransfer-Encoding: chunked\r\n" in seen[3][0] and seen[3][1] == b"abcdef"


async def test_a_chunked_answer_is_unframed_piece_by_piece():
    release = asyncio.Event()

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"6\r\nsecond\r\n0\r\nX-Trailer: t\r\n\r\n")
        await read_request(reader)
        writer.write(OK)
        await reader.read()

    async with raw_server(handler) as (url, connections):
        upstreams = pool(url)
        reply = await upstreams.send("GET", b"/sse", [], None)
        assert await reply.read() == b"first"  # before the upstream sent the rest
        release.set()
        assert await body_of(reply) == b"second"
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"ok"
        assert len(connections) == 1
        await upstreams.aclose()


async def test_an_answer_ending_with_the_connection_is_read_to_the_end_and_not_reused():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
        writer.close()

    async with raw_server(handler) as (url, connections):
        upstreams = pool(url)
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"until the end"
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"until the end"
        assert len(connections) == 2
        await upstreams.aclose()


async def test_connection_close_informational_answers_and_head():
    async with raw_server(
        answering(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",  # to a HEAD: no body follows
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        )
    ) as (url, connections):
        upstreams = pool(url)
        reply = await upstreams.send("GET", b"/", [], None)
        assert (reply.status, reply.headers) == (200, [(b"Content-Length", b"2")])
        assert await body_of(reply) == b"ok"
        assert await body_of(await upstreams.send("HEAD", b"/", [], None)) == b""
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"ok"
        assert len(connections) == 1
        await upstreams.aclose()


async def test_an_idle_connection_the_upstream_closed_or_past_expiry_is_not_reused():
    async def close_after_one(reader, writer):
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with raw_server(close_after_one) as (url, connections):
        upstreams = pool(url)
        await body_of(await upstreams.send("GET", b"/", [], None))
        await asyncio.sleep(0.1)  # the close reaches the pool's connection
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"ok"
        assert len(connections) == 2
        await upstreams.aclose()
    async with raw_server(answering(OK, OK)) as (url, connections):
        upstreams = pool(url, keepalive_expiry=0.05)
        await body_of(await upstreams.send("GET", b"/", [], None))
        await asyncio.sleep(0.1)
        await body_of(await upstreams.send("GET", b"/", [], None))
        assert len(connections) == 2
        await upstreams.aclose()


async def test_a_half_read_answer_closes_its_connection():
    async def handler(reader, writer):
        await read_request(reader)
        first = len(connections) == 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf" if first else OK)
        await reader.read()

    async with raw_server(handler) as (url, connections):
        upstreams = pool(url)
        reply = await upstreams.send("GET", b"/", [], None)
        assert await reply.read() == b"half"
        reply.close()
        assert await body_of(await upstreams.send("GET", b"/", [], None)) == b"ok"
        assert len(connections) == 2
        await upstreams.aclose()


async def test_errors_and_timeouts():
    async def silent(reader, writer):
        await reader.read()

    async def stalls_mid_body(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart")
        await reader.read()

    async with contextlib.AsyncExitStack() as pools:

        def closed_after(upstreams: UpstreamPool) -> UpstreamPool:
            pools.push_async_callback(upstreams.aclose)
            return upstreams

        async with raw_server(silent) as (url, _):
            with pytest.raises(UpstreamTimeout) as timeout:
                await closed_after(pool(url, read=0.1)).send("GET", b"/", [], None)
            assert timeout.value.phase == "read"
        async with raw_server(answering(b"SSH-2.0-OpenSSH\r\n\r\n")) as (url, _):
            with pytest.raises(UpstreamUnavailable):
                await closed_after(pool(url)).send("GET", b"/", [], None)
        async with raw_server(stalls_mid_body) as (url, _):
            reply = await closed_after(pool(url, read=0.1)).send("GET", b"/", [], None)
            assert await reply.read() == b"part"
            with pytest.raises(UpstreamBodyError):
                await reply.read()
            reply.close()
        async with raw_server(silent) as (url, _):
            pass
        with pytest.raises(UpstreamUnavailable):
            await closed_after(pool(url)).send("GET", b"/", [], None)  # refused


async def test_past_max_connections_requests_wait_for_one_then_time_out():
    release = asyncio.Event()

    async def slow(reader, writer):
        while True:
            await read_request(reader)
            await release.wait()
            writer.write(OK)
            await writer.drain()

    async with raw_server(slow) as (url, connections):
        upstreams = pool(url, max_connections=1, pool_timeout=0.2)
        first = asyncio.create_task(upstreams.send("GET", b"/", [], None))
        await asyncio.sleep(0.05)
        with pytest.raises(UpstreamTimeout) as timeout:
            await upstreams.send("GET", b"/", [], None)
        assert timeout.value.phase == "pool"
        waiting = asyncio.create_task(upstreams.send("GET", b"/", [], None))
        await asyncio.sleep(0.05)
        release.set()
        assert await body_of(await first) == b"ok"
        assert await body_of(await waiting) == b"ok"  # handed the released connection
        assert len(connections) == 1
        await upstreams.aclose()


async def test_a_failing_request_body_gives_its_connection_slot_back():
    async def handler(reader, writer):
        await reader.read()

    async def broken():
        yield b"start"
        raise RuntimeError("the client went away")

    async with raw_server(handler) as (url, _):
        upstreams = pool(url, max_connections=1, pool_timeout=0.2)
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await upstreams.send("POST", b"/", [], broken())
        await upstreams.aclose()


async def test_fetch_reads_a_whole_answer_and_keeps_the_connection():
    chunked = (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n5\r\n": 1}\r\n0\r\n\r\n'
    )
    async with raw_server(answering(chunked, OK)) as (url, connections):
        upstreams = pool(url)
        first = await upstreams.fetch(
            "POST", b"/j", [(b"content-type", b"application/json")], b"{}"
        )
        second = await upstreams.fetch("GET", b"/", [])
        await upstreams.aclose()
    assert (first.status, first.body) == (201, b'{"a": 1}')
    assert (b"Content-Type", b"application/json") in first.headers
    assert (second.status, second.body) == (200, b"ok")
    assert len(connections) == 1


async def test_fetch_refuses_an_answer_over_its_limit_and_drops_the_connection():
    async def handler(reader, writer):
        await read_request(reader)
        if len(connections) == 1:  # promises 100 bytes, sends 50 and waits
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50)
        else:
            writer.write(OK)
        await writer.drain()
        await reader.read()

    async with raw_server(handler) as (url, connections):
        upstreams = pool(url)
        with pytest.raises(UpstreamBodyError):
            await upstreams.fetch("GET", b"/big", [], max_bytes=10)
        after = await upstreams.fetch("GET", b"/", [])
        await upstreams.aclose()
    # The half-read connection was closed, not pooled: the next call needed a new one.
    assert (after.body, len(connections)) == (b"ok", 2)


async def test_a_body_the_upstream_does_not_take_is_a_write_timeout():
    async def reads_the_head_only(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async def endless():
        while True:
            yield b"x" * (64 * 1024)

    async with raw_server(reads_the_head_only) as (url, _):
        upstreams = pool(url, write=0.2, read=5)
        async with asyncio.timeout(4):
            with pytest.raises(UpstreamTimeout) as timeout:
                await upstreams.send("POST", b"/", [], endless())
        assert timeout.value.phase == "write"
        await upstreams.aclose()


async def test_a_large_sized_body_the_upstream_does_not_take_is_a_write_timeout_too():
    async def reads_the_head_only(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async with raw_server(reads_the_head_only) as (url, _):
        upstreams = pool(url, write=0.2, read=5)
        async with asyncio.timeout(4):
            with pytest.raises(UpstreamTimeout) as timeout:
                await upstreams.send("PUT", b"/", [], b"x" * (64 * 1024 * 1024))
        assert timeout.value.phase == "write"
        await upstreams.aclose()


async def test_a_large_sized_body_arrives_whole_with_its_length():
    async def handler(reader, writer):
        seen.append(await read_request(reader))
        writer.write(OK)
        await reader.read()

    seen: list[tuple[bytes, bytes]] = []
    payload = bytes(range(256)) * 1024  # 256 KiB
    async with raw_server(handler) as (url, _):
        upstreams = pool(url)
        assert (await upstreams.fetch("POST", b"/", [], payload)).body == b"ok"
        await upstreams.aclose()
    ((head, body),) = seen
    assert b"\r\nContent-Length: 262144\r\n" in head and b"chunked" not in head.lower()
    assert body == payload


async def test_a_sized_or_empty_body_gets_none_of_the_clients_default_headers():
    seen: list[bytes] = []

    async def handler(reader, writer):
        while True:
            seen.append((await read_request(reader))[0].lower())
            writer.write(OK)

    async with raw_server(handler) as (url, _):
        upstreams = pool(url)
        for method, body in [("POST", b"{}"), ("PATCH", None), ("DELETE", None)]:
            await body_of(await upstreams.send(method, b"/", [], body))
        await upstreams.aclose()
    for head in seen:
        for added in (b"content-type", b"accept", b"user-agent", b"cookie", b"connection"):
            assert b"\r\n" + added + b":" not in head, (added, head)


async def test_received_says_when_the_rest_of_the_body_has_arrived():
    release = asyncio.Event()

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
        await writer.drain()
        await release.wait()
        writer.write(b"-rest")
        await writer.drain()
        await read_request(reader)
        writer.write(OK)  # head and body in one write
        await reader.read()

    async with raw_server(handler) as (url, _):
        upstreams = pool(url)
        reply = await upstreams.send("GET", b"/slow", [], None)
        assert not reply.received and not reply.complete
        assert await reply.read() == b"first"
        release.set()
        assert await body_of(reply) == b"-rest"
        whole = await upstreams.send("GET", b"/small", [], None)
        assert whole.received  # came with its head (one small write on loopback)
        assert not whole.complete  # received, not read yet
        assert await body_of(whole) == b"ok"
        await upstreams.aclose()
