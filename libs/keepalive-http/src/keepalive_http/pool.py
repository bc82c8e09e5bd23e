"""A lean HTTP/1.1 client: one keep-alive connection pool per upstream (the server it talks to).

What the gateway's proxying and chat's calls to accounting need of an HTTP client and no more,
at a fraction of httpx's cost per request (httpcore walks every pooled connection, and polls
each idle one's socket, for every request it queues and every response it releases; measured
from one client against accounting: ~190 us of CPU per request here, ~960 us through httpx):

- requests built from raw header lists, with nothing added but ``Host`` and the body framing
  (``Content-Length: 0`` for a bodiless POST/PUT/PATCH, as httpx does; chunked encoding when a
  streamed body has no ``Content-Length``);
- request bodies written as they arrive, responses read piece by piece as the upstream sends
  them (chunked framing removed, content encodings untouched), so SSE passes unbuffered;
- timeouts: connect, write (a full send buffer draining), read (the response head, and each
  piece of a body), pool (waiting for a free connection when ``max_connections`` are open);
- a connection goes back to the pool only when its response was read to the end and neither
  side asked to close it; idle ones are dropped after ``keepalive_expiry`` seconds (below the
  upstream's own keep-alive, so the gateway never reuses one the upstream is closing) or as
  soon as the upstream closed them. Anything else (a half-read response: the client went away)
  closes the connection, so the upstream sees the disconnect.

``send`` hands the body over piece by piece (``read()``); ``fetch`` reads a small answer whole.

Errors: ``UpstreamUnavailable`` (cannot connect, connect timeout, the connection broke or the
answer was not HTTP), ``UpstreamTimeout`` (read, write or pool timeout); while a body is read,
``UpstreamBodyError`` for either.
"""

import asyncio
import collections
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

RawHeaders = list[tuple[bytes, bytes]]

MAX_HEAD_BYTES = 64 * 1024
READ_SIZE = 64 * 1024
MAX_FETCHED_BYTES = 1024 * 1024
# For pools to the platform's own services: below uvicorn's default keep-alive (5 s), so an idle
# connection is dropped here before the server drops it, and no request goes down a connection
# the other end is closing.
KEEPALIVE_EXPIRY_SECONDS = 4.0
_BODYLESS_METHODS = frozenset({"POST", "PUT", "PATCH"})  # these get Content-Length: 0


class UpstreamError(Exception):
    pass


class UpstreamUnavailable(UpstreamError):
    """No connection, or the upstream broke it or did not speak HTTP/1.1."""


class UpstreamTimeout(UpstreamError):
    def __init__(self, phase: str) -> None:
        super().__init__(f"{phase} timeout")
        self.phase = phase  # read, write or pool


class UpstreamBodyError(UpstreamError):
    """The response body broke off (closed, malformed, or a read timeout)."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    write: float
    pool: float


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def healthy(self) -> bool:
        """Neither closed by the upstream nor broken."""
        return (
            not self.reader.at_eof()
            and self.reader.exception() is None
            and not self.writer.transport.is_closing()
        )

    def usable(self, now: float, expiry: float) -> bool:
        return now - self.idle_since < expiry and self.healthy()

    def close(self) -> None:
        self.writer.transport.abort()


class UpstreamReply:
    """One response: ``status``, ``headers`` (raw, as received), the body by ``read()``
    (b"" at its end), and ``close()``, which must be called however the relay ends."""

    __slots__ = (
        "_connection",
        "_keep_alive",
        "_mode",
        "_need_crlf",
        "_pool",
        "_read_timeout",
        "_remaining",
        "headers",
        "status",
    )

    def __init__(
        self,
        pool: "UpstreamPool",
        connection: _Connection,
        status: int,
        headers: RawHeaders,
        mode: str,
        length: int,
        keep_alive: bool,
    ) -> None:
        self.status = status
        self.headers = headers
        self._pool: UpstreamPool | None = pool
        self._connection = connection
        self._mode = mode  # "none", "length", "chunked" or "close"
        self._remaining = length
        self._keep_alive = keep_alive
        self._need_crlf = False
        self._read_timeout = pool.timeouts.read

    @property
    def complete(self) -> bool:
        return self._mode == "none"

    async def read(self) -> bytes:
        """The next piece of the body as it arrives; b"" once it is all read."""
        mode = self._mode
        if mode == "none":
            return b""
        reader = self._connection.reader
        try:
            async with asyncio.timeout(self._read_timeout):
                if mode == "length":
                    data = await reader.read(min(self._remaining, READ_SIZE))
                    if not data:
                        raise UpstreamBodyError("the upstream closed the connection mid-body")
                    self._remaining -= len(data)
                    if self._remaining == 0:
                        self._mode = "none"
                    return data
                if mode == "chunked":
                    return await self._read_chunked(reader)
                data = await reader.read(READ_SIZE)  # "close": the body ends with the connection
                if not data:
                    self._mode, self._keep_alive = "none", False
                return data
        except TimeoutError:
            raise UpstreamBodyError("read timeout") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise UpstreamBodyError(repr(exc)) from None

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        while True:
            if self._remaining == 0:
                if self._need_crlf:
                    if await reader.readexactly(2) != b"\r\n":
                        raise ValueError("malformed chunk")
                    self._need_crlf = False
                size = int(bytes((await reader.readuntil(b"\r\n"))[:-2]).split(b";")[0], 16)
                if size < 0:
                    raise ValueError("malformed chunk size")
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, dropped
                        pass
                    self._mode = "none"
                    return b""
                self._remaining = size
            data = await reader.read(min(self._remaining, READ_SIZE))
            if not data:
                raise UpstreamBodyError("the upstream closed the connection mid-body")
            self._remaining -= len(data)
            if self._remaining == 0:
                self._need_crlf = True  # read before the next chunk: this piece goes out now
            return data

    def close(self) -> None:
        """Back to the pool when the body was read to its end, else the connection is closed."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool._release(self._connection, self._mode == "none" and self._keep_alive)


@dataclass(frozen=True)
class FetchedReply:
    status: int
    headers: RawHeaders
    body: bytes


class UpstreamPool:
    """Keep-alive HTTP/1.1 connections to one upstream (``http://`` or ``https://``)."""

    def __init__(
        self,
        url: str,
        timeouts: Timeouts,
        *,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry: float,
    ) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme or "http"
        if self.scheme not in ("http", "https"):
            raise ValueError(f"unsupported upstream scheme in {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        default_port = 443 if self.scheme == "https" else 80
        self.port = parts.port or default_port
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port == default_port else f"{host}:{self.port}"
        self.host_header = netloc.encode("ascii")
        self.timeouts = timeouts
        self._ssl = ssl.create_default_context() if self.scheme == "https" else None
        self._max = max_connections
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._idle: collections.deque[_Connection] = collections.deque()
        self._open = 0  # connections open or being opened, idle ones included
        self._waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._closed = False

    # --- the pool ----------------------------------------------------------------------------

    async def _acquire(self) -> tuple[_Connection, bool]:
        """A connection, and whether it was reused."""
        if self._closed:
            raise UpstreamUnavailable("the pool is closed")
        now = time.monotonic()
        idle = self._idle
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to expire
            if connection.usable(now, self._expiry):
                return connection, True
            connection.close()
            self._open -= 1
        if self._open < self._max:
            self._open += 1
            return await self._connect_counted(), False
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.timeouts.pool):
                handed = await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection (or a slot) just as the wait ended: pass it on.
                self._release_handed(waiter.result())
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise UpstreamTimeout("pool") from None
            raise
        if handed is not None:
            return handed, True
        return await self._connect_counted(), False  # a slot freed by a closed connection

    async def _connect_counted(self) -> _Connection:
        """Open a connection whose slot ``_open`` already counts (given back on failure)."""
        try:
            async with asyncio.timeout(self.timeouts.connect):
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None,
                    limit=MAX_HEAD_BYTES,
                )
        except BaseException as exc:
            self._release_handed(None)
            if isinstance(exc, TimeoutError):
                raise UpstreamUnavailable("connect timeout") from None
            if isinstance(exc, OSError):
                raise UpstreamUnavailable(repr(exc)) from None
            raise
        return _Connection(reader, writer)

    def _release_handed(self, connection: _Connection | None) -> None:
        if connection is None:
            self._free_slot()
        else:
            self._release(connection, True)

    def _free_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes to the waiter, which connects
                return
        self._open -= 1

    def _release(self, connection: _Connection, reusable: bool) -> None:
        now = time.monotonic()
        if reusable and not self._closed and connection.healthy():
            connection.idle_since = now
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(connection)
                    return
            if len(self._idle) < self._max_idle:
                self._idle.append(connection)
                self._sweep(now)
                return
        connection.close()
        self._free_slot()

    def _sweep(self, now: float) -> None:
        """Close idle connections past their expiry (the oldest are on the left)."""
        idle = self._idle
        while idle and now - idle[0].idle_since >= self._expiry:
            idle.popleft().close()
            self._open -= 1

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()
            self._open -= 1

    # --- one exchange --------------------------------------------------------------------------

    async def send(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: AsyncIterator[bytes] | bytes | None,
    ) -> UpstreamReply:
        """Send a request and read the response head; the body is left to ``read()``."""
        connection, _ = await self._acquire()
        try:
            await self._write_request(connection, method, target, headers, body)
            return await self._read_head(connection, method)
        except BaseException:
            connection.close()
            self._free_slot()
            raise

    async def fetch(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: bytes | None = None,
        *,
        max_bytes: int = MAX_FETCHED_BYTES,
    ) -> "FetchedReply":
        """Send a request and read its whole answer (at most ``max_bytes``, else
        ``UpstreamBodyError``); the connection goes back to the pool."""
        reply = await self.send(method, target, headers, body)
        try:
            pieces, size = [], 0
            while piece := await reply.read():
                size += len(piece)
                if size > max_bytes:
                    raise UpstreamBodyError(f"the answer is over {max_bytes} bytes")
                pieces.append(piece)
        finally:
            reply.close()
        return FetchedReply(reply.status, reply.headers, b"".join(pieces))

    async def _write_request(
        self,
        connection: _Connection,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: AsyncIterator[bytes] | bytes | None,
    ) -> None:
        parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nHost: ", self.host_header]
        has_length = has_chunked = False
        for name, value in headers:
            if name == b"content-length":
                has_length = True
            parts += (b"\r\n", name, b": ", value)
        chunked = body is not None and not isinstance(body, bytes) and not has_length
        if chunked:
            parts.append(b"\r\nTransfer-Encoding: chunked")
            has_chunked = True
        elif isinstance(body, bytes) and not has_length:
            parts += (b"\r\nContent-Length: ", str(len(body)).encode("ascii"))
            has_length = True
        if not (has_length or has_chunked) and method in _BODYLESS_METHODS:
            parts.append(b"\r\nContent-Length: 0")
        parts.append(b"\r\n\r\n")
        if isinstance(body, bytes):
            parts.append(body)
        writer = connection.writer
        try:
            writer.write(b"".join(parts))
            await self._drain(writer)
            if body is not None and not isinstance(body, bytes):
                async for chunk in body:
                    if not chunk:
                        continue
                    if chunked:
                        writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    else:
                        writer.write(chunk)
                    await self._drain(writer)
                if chunked:
                    writer.write(b"0\r\n\r\n")
                    await self._drain(writer)
        except TimeoutError:
            raise UpstreamTimeout("write") from None
        except OSError as exc:
            raise UpstreamUnavailable(repr(exc)) from None

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        if transport.is_closing():
            raise ConnectionResetError("the upstream closed the connection")
        if transport.get_write_buffer_size():
            async with asyncio.timeout(self.timeouts.write):
                await writer.drain()

    async def _read_head(self, connection: _Connection, method: str) -> UpstreamReply:
        reader = connection.reader
        try:
            async with asyncio.timeout(self.timeouts.read):
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    status_line, _, rest = head[:-4].partition(b"\r\n")
                    version, status, keep_alive = _status_line(status_line)
                    if not 100 <= status < 200 or status == 101:
                        break  # informational answers (103 Early Hints) are skipped
        except TimeoutError:
            raise UpstreamTimeout("read") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise UpstreamUnavailable(repr(exc)) from None
        headers: RawHeaders = []
        length: int | None = None
        chunked = False
        for line in rest.split(b"\r\n") if rest else ():
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise UpstreamUnavailable(f"malformed header line {line[:100]!r}")
            value = value.strip(b" \t")
            lower = name.lower()
            if lower == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise UpstreamUnavailable("malformed Content-Length")
                length = int(value)
            elif lower == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
                if not chunked:
                    keep_alive = False  # some other coding: the body ends with the connection
            elif lower == b"connection":
                tokens = {token.strip().lower() for token in value.split(b",")}
                if b"close" in tokens:
                    keep_alive = False
                elif b"keep-alive" in tokens and version == b"HTTP/1.0":
                    keep_alive = True
            headers.append((name, value))
        if method == "HEAD" or status in (204, 304) or status < 200:
            mode, length = "none", 0
        elif chunked:
            mode, length = "chunked", 0
        elif length is not None:
            mode = "length" if length else "none"
        else:
            mode, length, keep_alive = "close", 0, False
        return UpstreamReply(self, connection, status, headers, mode, length, keep_alive)


def _status_line(line: bytes) -> tuple[bytes, int, bool]:
    version, _, rest = line.partition(b" ")
    code = rest[:3]
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise UpstreamUnavailable(f"not an HTTP/1.x answer: {line[:100]!r}")
    return version, int(code), version == b"HTTP/1.1"
