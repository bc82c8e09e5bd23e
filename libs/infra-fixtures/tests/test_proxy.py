import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from infra_fixtures.proxy import TcpProxy

TIMEOUT = 5.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def proxy(echo_port: int) -> AsyncIterator[TcpProxy]:
    async with TcpProxy("127.0.0.1", echo_port) as proxy:
        yield proxy


async def _roundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), TIMEOUT)
    finally:
        writer.close()


async def _is_dropped(reader: asyncio.StreamReader) -> bool:
    """True when the peer closed or reset the connection."""
    try:
        return await asyncio.wait_for(reader.read(1), TIMEOUT) == b""
    except ConnectionError:
        return True


async def test_forwards_bytes_both_ways(proxy: TcpProxy, echo_port: int) -> None:
    assert proxy.port != echo_port
    assert await _roundtrip(proxy.port, b"hello") == b"hello"
    big = bytes(range(256)) * 1024  # larger than one read chunk
    assert await _roundtrip(proxy.port, big) == big


async def test_cut_drops_live_connections_and_refuses_new_ones_until_restored(
    proxy: TcpProxy,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == b"ping"

    await proxy.cut()
    assert proxy.is_cut
    assert await _is_dropped(reader)
    writer.close()

    new_reader, new_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    assert await _is_dropped(new_reader)
    new_writer.close()

    await proxy.restore()
    assert await _roundtrip(proxy.port, b"back") == b"back"


async def test_stop_closes_the_listening_port(echo_port: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo_port)
    await proxy.start()
    port = proxy.port
    await proxy.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_unreachable_target_drops_the_client() -> None:
    # Grab a free port and release it so nothing listens there.
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    dead_port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with TcpProxy("127.0.0.1", dead_port) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _is_dropped(reader)
        writer.close()


async def test_takes_postgres_down_for_one_client_only(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    async with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        netloc = parts.netloc.rsplit("@", 1)
        host_port = f"127.0.0.1:{proxy.port}"
        proxied_netloc = f"{netloc[0]}@{host_port}" if len(netloc) == 2 else host_port
        proxied_url = urlunsplit(parts._replace(netloc=proxied_netloc))

        via_proxy = await asyncpg.connect(proxied_url, timeout=TIMEOUT)
        direct = await asyncpg.connect(postgres_url, timeout=TIMEOUT)
        try:
            assert await via_proxy.fetchval("SELECT 1") == 1
            await proxy.cut()
            with pytest.raises((ConnectionError, asyncpg.InterfaceError)):
                await asyncio.wait_for(via_proxy.fetchval("SELECT 1"), TIMEOUT)
            with pytest.raises((ConnectionError, asyncpg.PostgresConnectionError, OSError)):
                await asyncpg.connect(proxied_url, timeout=TIMEOUT)
            assert await direct.fetchval("SELECT 2") == 2

            await proxy.restore()
            again = await asyncpg.connect(proxied_url, timeout=TIMEOUT)
            assert await again.fetchval("SELECT 3") == 3
            await again.close()
        finally:
            via_proxy.terminate()
            await direct.close()
