"""Opening robust RabbitMQ connections that fail fast instead of hanging."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aio_pika.connection import make_url

from event_bus.errors import BusUnavailable

T = TypeVar("T")


def redact(url: str) -> str:
    """``url`` without its password, for logs and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def open_robust_connection(
    url: str, *, connect_timeout: float, reconnect_interval: float
) -> AbstractRobustConnection:
    """Connect once, raising :class:`BusUnavailable` if that fails.

    Once connected, the connection re-establishes itself (and its channels, exchanges, queues
    and consumers) every ``reconnect_interval`` seconds after a broker restart.
    """
    # What aio_pika.connect_robust does, but keeping hold of the connection so that a failed
    # first attempt can be closed (otherwise it is closed from __del__ with a warning).
    connection = aio_pika.RobustConnection(make_url(url, reconnect_interval=reconnect_interval))
    try:
        # The first attempt fails fast; the timeout covers TCP and the AMQP handshake.
        await connection.connect(timeout=connect_timeout)
    except BaseException as exc:
        await connection.close()
        if isinstance(exc, Exception):
            raise BusUnavailable(f"cannot connect to RabbitMQ at {redact(url)}: {exc!r}") from exc
        raise
    return connection


async def set_up_or_close(
    connection: AbstractRobustConnection,
    set_up: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    what: str,
) -> T:
    """Run ``set_up`` (open channels, declare topology) in bounded time; close on failure."""
    try:
        async with asyncio.timeout(timeout):
            return await set_up()
    except BaseException as exc:
        await connection.close()
        if isinstance(exc, Exception):
            raise BusUnavailable(f"{what} failed: {exc!r}") from exc
        raise
