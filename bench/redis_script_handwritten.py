"""The hand-written RESP client chat wrote its stream batches with until issue 13, kept here
as ``bench/redis_script.py``'s baseline (chat now uses ``chat.streaming.resume_log.script_pipe``,
over redis-py). Unchanged but for this docstring; what it said of itself:

One Redis connection that runs a Lua script, pipelined: each call is written at once, without
waiting for the answers to the calls before it, and the answers come back in order.

redis-py sends a command and waits for its answer on a connection from its pool: a batch of
stream writes made while the previous one was still out waited for its answer (two turns of
a busy event loop: hundreds of ms behind the user, for a supervisor on another replica), and
two batches sent at once on two connections could reach Redis in the wrong order, while the
resume log's ids must only grow. Here the calls of one process go on one connection, in the
order they are made, and the caller learns each answer from a future.

The protocol is the little of RESP2 these calls need: AUTH and SELECT from the URL, SCRIPT
LOAD once per connection, then EVALSHA; answers are simple strings, errors, integers, bulk
strings and arrays of them. ``rediss://`` URLs take redis-py's TLS options, so one URL
serves both clients: ``ssl_ca_certs`` (a CA file), ``ssl_cert_reqs`` (required, optional or
none) and ``ssl_check_hostname``. A call with no answer within ``reply_timeout`` drops the
connection; a dropped connection fails every call still out (``ConnectionError``), and the
next call reconnects. ``connections`` counts the connections made, so a caller can tell that the
server it writes to may have restarted (and lost what it held) since its last call. A
``NOSCRIPT`` answer (the server's scripts flushed) drops the connection too: the next one
loads the script again.
"""

import asyncio
import logging
import ssl
from collections import deque
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class ScriptError(Exception):
    """Redis answered a call with an error (the script failed or is unknown)."""


def encode_command(*parts: Any) -> bytes:
    """A command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def tls_context(query: dict[str, list[str]]) -> ssl.SSLContext:
    """The TLS settings of a ``rediss://`` URL's query, read as redis-py reads them."""
    option = {name: values[0] for name, values in query.items() if values}
    context = ssl.create_default_context(cafile=option.get("ssl_ca_certs"))
    requirement = option.get("ssl_cert_reqs", "required").lower()
    if requirement not in _CERT_REQS:
        raise ValueError(f"ssl_cert_reqs must be one of {', '.join(_CERT_REQS)}")
    check_hostname = option.get("ssl_check_hostname", "true").lower() in ("1", "true", "yes")
    context.check_hostname = check_hostname and requirement != "none"
    context.verify_mode = _CERT_REQS[requirement]
    return context


class _Protocol(asyncio.Protocol):
    def __init__(self, on_reply, on_lost) -> None:
        self._buffer = bytearray()
        self._on_reply = on_reply
        self._on_lost = on_lost
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_lost(self, exc)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            while (reply := self._next_reply()) is not _INCOMPLETE:
                self._on_reply(reply)
        except (ValueError, ConnectionError) as exc:
            log.warning("unreadable answer from redis; dropping the connection: %r", exc)
            if self.transport is not None:
                self.transport.abort()

    def _next_reply(self) -> Any:
        parsed = _parse(self._buffer, 0)
        if parsed is _INCOMPLETE:
            return _INCOMPLETE
        reply, end = parsed
        del self._buffer[:end]
        return reply


def _parse(buffer: bytearray, start: int) -> Any:
    """(reply, where it ends) of the reply at ``start``, or _INCOMPLETE."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return _INCOMPLETE
    kind, line = buffer[start : start + 1], bytes(buffer[start + 1 : end])
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, end + 2
        if len(buffer) < end + 2 + size + 2:
            return _INCOMPLETE
        return bytes(buffer[end + 2 : end + 2 + size]), end + 2 + size + 2
    if kind == b"*":
        items: list[Any] = []
        position = end + 2
        for _ in range(int(line)):
            parsed = _parse(buffer, position)
            if parsed is _INCOMPLETE:
                return _INCOMPLETE
            item, position = parsed
            items.append(item)
        return items, position
    if kind == b"+":
        return line.decode(), end + 2
    if kind == b":":
        return int(line), end + 2
    if kind == b"-":
        return ScriptError(line.decode(errors="replace")), end + 2
    raise ConnectionError(f"unexpected Redis reply type {kind!r}")


_INCOMPLETE = object()


class ScriptPipe:
    def __init__(
        self,
        url: str,
        script: str,
        *,
        connect_timeout: float = 3.0,
        reply_timeout: float = 5.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"not a redis:// or rediss:// URL: {parts.scheme}://")
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 6379
        self._tls = tls_context(parse_qs(parts.query)) if parts.scheme == "rediss" else None
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        path = parts.path.strip("/")
        self._db = int(path) if path.isdigit() else 0
        self._script = script
        self._connect_timeout = connect_timeout
        self._reply_timeout = reply_timeout
        self._protocol: _Protocol | None = None
        self._sha: str | None = None
        self._waiting: deque[tuple[asyncio.Future, asyncio.TimerHandle]] = deque()
        self._connecting = asyncio.Lock()
        self.connections = 0

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    @property
    def connected(self) -> bool:
        return self._protocol is not None and self._sha is not None

    async def connect(self) -> None:
        """Connect and load the script; does nothing when connected. Raises ``OSError``,
        ``TimeoutError``, ``ConnectionError`` or ``ScriptError`` (bad credentials)."""
        async with self._connecting:
            if self.connected:
                return
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Protocol(self._reply, self._lost),
                    self._host,
                    self._port,
                    ssl=self._tls,
                )
                self._protocol = protocol
                setup = []
                if self._password is not None:
                    credentials = [self._username] if self._username else []
                    setup.append(self._send("AUTH", *credentials, self._password))
                if self._db:
                    setup.append(self._send("SELECT", self._db))
                setup.append(self._send("SCRIPT", "LOAD", self._script))
                try:
                    answers = await asyncio.gather(*setup)
                except BaseException:
                    self._drop()
                    raise
            self._sha = answers[-1].decode()
            self.connections += 1

    def call(self, keys: list[str], args: list[Any]) -> asyncio.Future:
        """Run the script now (written before this returns); the future has its answer.
        Raises ``ConnectionError`` when not connected."""
        if not self.connected:
            raise ConnectionError("not connected to Redis")
        return self._send("EVALSHA", self._sha, len(keys), *keys, *args)

    async def aclose(self) -> None:
        self._drop()

    def _send(self, *command: Any) -> asyncio.Future:
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            raise ConnectionError("not connected to Redis")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        timer = loop.call_later(self._reply_timeout, self._timed_out, future)
        self._waiting.append((future, timer))
        protocol.transport.write(encode_command(*command))
        return future

    def _reply(self, reply: Any) -> None:
        if not self._waiting:
            log.warning("redis answered a call nobody made; dropping the connection")
            self._drop()
            return
        future, timer = self._waiting.popleft()
        timer.cancel()
        if future.done():
            return
        if isinstance(reply, ScriptError):
            future.set_exception(reply)
            if str(reply).startswith("NOSCRIPT"):
                log.warning("redis lost the script; dropping the connection to load it again")
                self._drop()
        else:
            future.set_result(reply)

    def _timed_out(self, future: asyncio.Future) -> None:
        if not future.done():
            log.warning("redis did not answer in time; dropping the connection")
            self._drop()

    def _lost(self, protocol: _Protocol | None, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return  # an earlier connection, already dropped
        self._protocol = None
        self._sha = None
        waiting, self._waiting = self._waiting, deque()
        for future, timer in waiting:
            timer.cancel()
            if not future.done():
                future.set_exception(ConnectionError(f"the Redis connection was lost: {exc!r}"))

    def _drop(self) -> None:
        protocol = self._protocol
        if protocol is None:
            return
        self._lost(protocol, None)  # fails what is still out, now
        if protocol.transport is not None:
            protocol.transport.abort()
