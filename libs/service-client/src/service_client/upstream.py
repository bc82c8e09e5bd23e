"""Keep-alive HTTP/1.1 connections to one upstream (the server called), on aiohttp: what the
gateway's proxying and the calls between services (``ServiceClient``, ``ServiceTokens``) need.

aiohttp replaced the hand-written keepalive_http here, by the rule in the README's
"Conventions": side by side in one run (``bench/http_clients.py``), a small call through this
pool costs ~110-220 us of CPU (aiohttp itself ~100-210, httpx ~650-3,900, keepalive_http
~40-90), within 1.5x of the ~190 us keepalive_http was kept for. The price: the gateway spends
~110-180 us more CPU per proxied request than it did on keepalive_http. Set up so that:

- a request carries the caller's raw headers with nothing added but ``Host`` and the body
  framing (``Content-Length``, ``Content-Length: 0`` for a bodiless POST/PUT/PATCH/DELETE,
  chunked encoding for a streamed body without one); no redirect is followed, no cookie kept,
  no content encoding undone, and the target (path and query) goes out exactly as given;
- request bodies are written as they arrive, responses read piece by piece as the upstream
  sends them (``read()``), so SSE passes unbuffered;
- timeouts: connect, write (a piece of the body waiting for the socket), read (the response
  head, then each piece of a body), pool (waiting for one of ``max_connections``);
- a connection goes back to the pool only when its response was read to the end and neither
  side asked to close it; idle ones are closed after ``keepalive_expiry`` seconds (by default
  ``KEEPALIVE_EXPIRY_SECONDS``, below uvicorn's own keep-alive) or once the upstream closed
  them. A half-read response closes its connection, so the upstream sees the disconnect. A
  GET, HEAD, OPTIONS, PUT or DELETE whose reused connection the upstream closed before
  answering is sent once more on a new one (aiohttp's own, as RFC 9112 section 9.3.1 allows),
  unless its streamed body had begun.

``send`` hands the body over piece by piece; ``fetch`` reads a small answer whole.

Errors: ``UpstreamUnavailable`` (cannot connect, connect timeout, the connection broke or the
answer was not HTTP), ``UpstreamTimeout`` (read, write or pool timeout); while a body is read,
``UpstreamBodyError`` for either. An exception raised by a streamed request body itself (the
client went away, a size limit) is raised as it is.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

RawHeaders = list[tuple[bytes, bytes]]

MAX_FETCHED_BYTES = 1024 * 1024
# Below uvicorn's default keep-alive (5 s): an idle connection is dropped here before the server
# drops it, so no request goes down a connection the other end is closing.
KEEPALIVE_EXPIRY_SECONDS = 4.0
# aiohttp writes a request of up to this many bytes without waiting for the socket.
_WRITTEN_AT_ONCE = 64 * 1024
# aiohttp's own defaults, none of which a relayed request may gain.
_NOT_ADDED = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


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


@dataclass(frozen=True)
class FetchedReply:
    status: int
    headers: RawHeaders
    body: bytes


class UpstreamReply:
    """One response: ``status``, ``headers`` (raw, as received), the body by ``read()``
    (b"" at its end), and ``close()``, which must be called however the relay ends.
    ``complete``: nothing (more) to read; ``received``: the rest has arrived already."""

    __slots__ = ("_response", "_slot", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, slot: asyncio.Semaphore) -> None:
        self.status = response.status
        self.headers: RawHeaders = list(response.raw_headers)
        self._response = response
        self._slot: asyncio.Semaphore | None = slot

    @property
    def complete(self) -> bool:
        """Nothing (more) to read: no body, or all of it read."""
        return self._response.content.at_eof()

    @property
    def received(self) -> bool:
        """All of the body has arrived (maybe not read yet): ``read()`` waits for nothing."""
        return self._response.content.is_eof()

    async def read(self) -> bytes:
        """The next piece of the body as it arrives; b"" once it is all read."""
        try:
            return await self._response.content.readany()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise UpstreamBodyError(repr(exc)) from None

    def close(self) -> None:
        """Back to the pool when the body was read to its end, else the connection is closed."""
        slot, self._slot = self._slot, None
        if slot is None:
            return
        if self.complete:
            self._response.release()
        else:
            self._response.close()
        slot.release()


class _StreamedBody:
    """A request body handed to aiohttp piece by piece: each piece must leave for the socket
    within the write timeout, and the body's own exception is kept to be raised as it is."""

    def __init__(self, source: AsyncIterator[bytes], write_timeout: float) -> None:
        self._source = source
        self._write_timeout = write_timeout
        self.deadline: asyncio.Timeout | None = None  # the sending request's, while it waits
        self.failure: Exception | None = None

    async def pieces(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            async for piece in self._source:
                if not piece:
                    continue  # an empty chunk would end a chunked body
                self._arm(loop.time() + self._write_timeout)
                yield piece  # aiohttp asks for the next one once this one is written
                self._arm(None)
        except Exception as exc:
            self.failure = exc
            raise

    def _arm(self, when: float | None) -> None:
        if self.deadline is not None:
            self.deadline.reschedule(when)


class UpstreamPool:
    """Keep-alive HTTP/1.1 connections to one upstream (``http://`` or ``https://``); a path in
    ``url`` is the caller's to put in each target."""

    def __init__(
        self,
        url: str,
        timeouts: Timeouts,
        *,
        max_connections: int,
        keepalive_expiry: float = KEEPALIVE_EXPIRY_SECONDS,
    ) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported upstream scheme in {url!r}")
        self._origin = f"{scheme}://{parts.netloc or '127.0.0.1'}"
        self.timeouts = timeouts
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _client(self) -> aiohttp.ClientSession:
        """The session, made on first use (it belongs to the running event loop)."""
        if self._closed:
            raise UpstreamUnavailable("the pool is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max, limit_per_host=0, keepalive_timeout=self._expiry
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=None,  # the pool wait is ours (``_slot``), connecting sock_connect
                    sock_connect=self.timeouts.connect,
                    sock_read=self.timeouts.read,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=_NOT_ADDED,
                trust_env=False,
            )
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    async def _slot(self) -> asyncio.Semaphore:
        """One of ``max_connections``, waited for at most the pool timeout."""
        if self._slots.locked():
            try:
                async with asyncio.timeout(self.timeouts.pool):
                    await self._slots.acquire()
            except TimeoutError:
                raise UpstreamTimeout("pool") from None
        else:
            await self._slots.acquire()  # free: taken at once
        return self._slots

    async def send(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: AsyncIterator[bytes] | bytes | None,
    ) -> UpstreamReply:
        """Send a request and read the response head; the body is left to ``read()``."""
        session = self._client()
        slot = await self._slot()
        try:
            response = await self._request(session, method, target, headers, body)
        except BaseException:
            slot.release()
            raise
        return UpstreamReply(response, slot)

    async def fetch(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: bytes | None = None,
        *,
        max_bytes: int = MAX_FETCHED_BYTES,
    ) -> FetchedReply:
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

    async def _request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: AsyncIterator[bytes] | bytes | None,
    ) -> aiohttp.ClientResponse:
        url = URL(self._origin + target.decode("latin-1"), encoded=True)
        sent = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
        if isinstance(body, bytes) and len(body) > _WRITTEN_AT_ONCE:
            # One that size may wait for the socket: in pieces, under the write timeout.
            if not any(name.lower() == "content-length" for name, _ in sent):
                sent.append(("Content-Length", str(len(body))))
            body = _pieces_of(body)
        if body is None or isinstance(body, bytes):
            try:
                return await session.request(
                    method, url, headers=sent, data=body, allow_redirects=False
                )
            except (aiohttp.ClientError, OSError) as exc:
                raise _sending_error(exc) from None
        streamed = _StreamedBody(body, self.timeouts.write)
        try:
            async with asyncio.timeout(None) as deadline:
                streamed.deadline = deadline
                try:
                    return await session.request(
                        method, url, headers=sent, data=streamed.pieces(), allow_redirects=False
                    )
                finally:
                    streamed.deadline = None
        except (aiohttp.ClientError, OSError) as exc:
            if streamed.failure is not None:
                raise streamed.failure from None
            raise _sending_error(exc) from None


async def _pieces_of(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), _WRITTEN_AT_ONCE):
        yield body[start : start + _WRITTEN_AT_ONCE]


def _sending_error(exc: BaseException) -> UpstreamError:
    """What a failure before the response head is, in this module's terms."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamUnavailable("connect timeout")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return UpstreamTimeout("read")
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout("write")  # the streamed body's deadline
    return UpstreamUnavailable(repr(exc))
