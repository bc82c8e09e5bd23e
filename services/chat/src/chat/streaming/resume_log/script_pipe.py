"""One Redis connection that runs a Lua script, pipelined: each call is sent without waiting
for the answers to the calls before it, and the answers come back in order.

redis-py's clients send a command (or a pipeline of them) and wait for its answer on a
connection from their pool: a batch of stream writes made while the previous one was still
out waited for its answer (two turns of a busy event loop, for a supervisor on another
replica), and two batches sent at once on two pooled connections could reach Redis in the
wrong order, while the resume log's ids must only grow. Here every call of the process goes
on one redis-py connection (the URL's options, AUTH, SELECT, TLS, the hiredis reader), in the
order the calls are made: one task sends them (packed by hiredis), another reads the answers
and hands each to its call's future, as redis-py's pub/sub reads a connection it also writes
to. ``bench/redis_script.py`` compares it with the hand-written RESP client it replaced.

``connect`` makes the connection and loads the script (SCRIPT LOAD); ``call`` runs it
(EVALSHA). A call with no answer within ``reply_timeout`` drops the connection; a dropped
connection fails every call still out (``ConnectionError``), and the next ``connect`` makes a
new one. ``connections`` counts the connections made, so a caller can tell that the server it
writes to may have restarted (and lost what it held) since its last call. A ``NOSCRIPT``
answer (the server's scripts flushed) drops the connection too: the next one loads the
script again.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

Arg = str | int | float | bytes


class ScriptError(Exception):
    """Redis answered a call with an error (the script failed or is unknown)."""


def pack(*parts: Arg) -> bytes:
    """A command in RESP, packed by hiredis."""
    # hiredis's stub types the command as a 1-tuple; it packs a tuple of any length.
    packed: bytes = hiredis.pack_command(parts)  # type: ignore[arg-type]
    return packed


class _Link:
    """One connection: its calls waiting for answers, in order, and what is left to send."""

    def __init__(self, connection: AbstractConnection, sha: str) -> None:
        self.connection = connection
        self.sha = sha
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.outbox: list[bytes] = []
        self.to_send = asyncio.Event()
        self.to_read = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []


class ScriptPipe:
    def __init__(
        self,
        url: str,
        script: str,
        *,
        connect_timeout: float = 3.0,
        reply_timeout: float = 5.0,
    ) -> None:
        """Raises ``ValueError`` for a URL redis-py would refuse (not ``redis://``,
        ``rediss://`` or ``unix://``, or TLS options it does not know)."""
        try:
            self._pool = ConnectionPool.from_url(
                url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=reply_timeout,  # also how long an answer may take
                retry=Retry(NoBackoff(), 0),  # the caller decides when to connect again
                # RESP2 and no CLIENT SETINFO: AUTH, SELECT, SCRIPT LOAD, then EVALSHA only.
                protocol=2,
                driver_info=None,
            )
            self._new_connection()  # TLS options are read here: refused now, not later
        except RedisError as exc:
            raise ValueError(f"unusable Redis URL options (such as ssl_cert_reqs): {exc}") from exc
        self._script = script
        self._connect_timeout = connect_timeout
        self._link: _Link | None = None
        self._last: _Link | None = None
        self._connecting = asyncio.Lock()
        self.connections = 0

    @property
    def in_flight(self) -> int:
        return len(self._link.waiting) if self._link is not None else 0

    @property
    def connected(self) -> bool:
        return self._link is not None

    async def connect(self) -> None:
        """Connect and load the script; does nothing when connected. Raises ``OSError``
        (``ConnectionError`` among them: refused, bad credentials, a certificate that does
        not verify), ``TimeoutError`` or ``ScriptError``."""
        async with self._connecting:
            if self._link is not None:
                return
            connection = self._new_connection()
            try:
                async with asyncio.timeout(self._connect_timeout):
                    # AUTH and SELECT; redis-py leaves connect unannotated.
                    await connection.connect()  # type: ignore[no-untyped-call]
                    await connection.send_command("SCRIPT", "LOAD", self._script)
                    sha = await connection.read_response()
            except BaseException as exc:
                await connection.disconnect(nowait=True)
                if isinstance(exc, RedisError):
                    raise plain_error(exc) from None
                raise
            self._link = self._last = link = _Link(connection, _text(sha))
            link.tasks = [
                asyncio.create_task(self._send(link), name="redis-script-send"),
                asyncio.create_task(self._read(link), name="redis-script-read"),
            ]
            self.connections += 1

    def call(self, keys: Sequence[str], args: Sequence[Arg]) -> "asyncio.Future[Any]":
        """Run the script: sent after every call made before it, without waiting for their
        answers; the future has its answer. Raises ``ConnectionError`` when not connected."""
        link = self._link
        if link is None:
            raise ConnectionError("not connected to Redis")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        link.waiting.append(future)
        link.outbox.append(pack("EVALSHA", link.sha, len(keys), *keys, *args))
        link.to_send.set()
        link.to_read.set()
        return future

    async def aclose(self) -> None:
        link = self._last
        if link is None:
            return
        self._drop(link, None)
        await asyncio.gather(*link.tasks, return_exceptions=True)
        await link.connection.disconnect(nowait=True)

    def _new_connection(self) -> AbstractConnection:
        # redis-py leaves ConnectionPool.make_connection unannotated.
        connection: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        return connection

    async def _send(self, link: _Link) -> None:
        while True:
            await link.to_send.wait()
            link.to_send.clear()
            packed, link.outbox = link.outbox, []
            try:
                await link.connection.send_packed_command(packed, check_health=False)
            except (RedisError, OSError) as exc:
                await self._lose(link, exc)
                return

    async def _read(self, link: _Link) -> None:
        while True:
            if not link.waiting:  # an idle connection is not read, so it never times out
                link.to_read.clear()
                await link.to_read.wait()
                continue
            try:
                answer = await link.connection.read_response()
            except NoScriptError as exc:
                self._answered(link, ScriptError(f"NOSCRIPT {exc}"))
                log.warning("redis lost the script; dropping the connection to load it again")
                await self._lose(link, exc)
                return
            except ResponseError as exc:
                self._answered(link, ScriptError(str(exc)))
                continue
            except (RedisError, OSError) as exc:
                if isinstance(exc, RedisTimeoutError):
                    log.warning("redis did not answer in time; dropping the connection")
                await self._lose(link, exc)
                return
            self._answered(link, answer)

    def _answered(self, link: _Link, answer: Any) -> None:
        future = link.waiting.popleft()
        if future.done():
            return
        if isinstance(answer, ScriptError):
            future.set_exception(answer)
        else:
            future.set_result(answer)

    async def _lose(self, link: _Link, exc: BaseException) -> None:
        self._drop(link, exc)
        await link.connection.disconnect(nowait=True)

    def _drop(self, link: _Link, exc: BaseException | None) -> None:
        """The connection is done with: every call still out fails, now."""
        if self._link is link:
            self._link = None
        waiting, link.waiting = link.waiting, deque()
        link.outbox.clear()
        for future in waiting:
            if not future.done():
                future.set_exception(ConnectionError(f"the Redis connection was lost: {exc!r}"))
        for task in link.tasks:
            if task is not asyncio.current_task():
                task.cancel()


def plain_error(exc: RedisError) -> Exception:
    """redis-py's error as the builtin one the callers of ``connect`` expect: the socket's
    own error when there is one (a refused connection, a certificate that does not verify)."""
    if isinstance(exc, RedisConnectionError):
        behind = exc.__cause__ or exc.__context__
        return behind if isinstance(behind, OSError) else ConnectionError(str(exc))
    if isinstance(exc, RedisTimeoutError):
        return TimeoutError(str(exc))
    if isinstance(exc, ResponseError):
        return ScriptError(str(exc))
    return ConnectionError(str(exc))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
