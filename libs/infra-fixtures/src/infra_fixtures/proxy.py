"""A TCP proxy that can take a real server "down" for the clients behind it.

Tests point one client at the proxy instead of at the server, then ``cut()`` to simulate an
outage (live connections are reset, new ones are reset on arrival) and ``restore()`` to bring
it back, without touching the server that other clients and tests share.
"""

import asyncio
import contextlib
import socket
import struct
from types import TracebackType
from typing import Self

_CHUNK_SIZE = 64 * 1024


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST rather than a FIN, as a crashed or unreachable server would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(_CHUNK_SIZE):
        writer.write(chunk)
        await writer.drain()


class TcpProxy:
    """Forwards 127.0.0.1:<ephemeral port> to ``target_host:target_port``."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._cut = False
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def is_cut(self) -> bool:
        return self._cut

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen_host, 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Reset every live connection and every new one until :meth:`restore`."""
        self._cut = True
        await self._drop_links()

    async def restore(self) -> None:
        self._cut = False

    async def stop(self) -> None:
        self._cut = True
        if self._server is not None:
            self._server.close()
        await self._drop_links()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _drop_links(self) -> None:
        # Resetting the sockets ends both pumps of every link, so the links finish on their own
        # (cancelling them instead makes asyncio's stream server log the cancellation as an error).
        for writer in list(self._writers):
            _reset(writer)
        await asyncio.gather(*self._links, return_exceptions=True)

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if self._cut:
            _reset(client_writer)
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            _reset(client_writer)
            return
        # Read again after the await (through the property, which mypy does not narrow).
        if self.is_cut:  # cut while we were connecting upstream
            _reset(server_writer)
            _reset(client_writer)
            return
        link = asyncio.current_task()
        assert link is not None
        writers = {client_writer, server_writer}
        self._links.add(link)
        self._writers |= writers
        try:
            # Either side ending ends the whole connection, like a server going away would.
            pumps = [
                asyncio.create_task(_pump(client_reader, server_writer)),
                asyncio.create_task(_pump(server_reader, client_writer)),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._links.discard(link)
            self._writers -= writers
            for writer in writers:
                writer.close()
