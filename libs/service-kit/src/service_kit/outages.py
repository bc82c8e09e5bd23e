"""Which exceptions mean a backing store is unreachable, as opposed to a bug.

A lost, refused or timed-out connection to PostgreSQL (asyncpg), MongoDB (PyMongo) or Redis
(redis-py) is an outage: a request answers 503 and may be retried, a bus consumer retries the
event until the store is back, a background loop logs one line and carries on. Each client
library is imported lazily: not every service has all three.
"""

import logging
from dataclasses import dataclass
from functools import cache
from types import TracebackType

DATABASE_UNAVAILABLE = "database_unavailable"
REDIS_UNAVAILABLE = "redis_unavailable"

# asyncpg raises a plain InterfaceError for an operation on a connection that was lost (its
# pool detaches it) or on a pool being closed; other InterfaceErrors are programming errors.
_CLOSED_CONNECTION_MARKS = (
    "connection is closed",
    "released back to the pool",
    "pool is closing",
    "pool is closed",
)


def outage_code(exc: BaseException) -> str | None:
    """``database_unavailable`` or ``redis_unavailable`` when ``exc`` is a connection to that
    store failing; None for anything else."""
    if _is_postgres_outage(exc) or isinstance(exc, _mongo_errors()):
        return DATABASE_UNAVAILABLE
    if isinstance(exc, _redis_errors()):
        return REDIS_UNAVAILABLE
    return None


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is a backing store being unreachable (a transient failure)."""
    return outage_code(exc) is not None


def outage_exception_types() -> tuple[type[Exception], ...]:
    """Every class :func:`outage_code` may accept (some only after a closer look)."""
    asyncpg = _asyncpg()
    postgres = () if asyncpg is None else (*asyncpg.connection_errors, asyncpg.interface_error)
    return (OSError, *postgres, *_mongo_errors(), *_redis_errors())


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failed round of a background loop: one warning line for an outage, which is
    expected and says all there is to say; the whole traceback for anything else."""
    code = outage_code(exc)
    if code is not None:
        log.warning("%s failed: %s", what, code, extra={"error": repr(exc)})
    else:
        log.error("%s failed", what, exc_info=exc)


def _is_postgres_outage(exc: BaseException) -> bool:
    asyncpg = _asyncpg()
    if asyncpg is None:
        return False
    if isinstance(exc, asyncpg.connection_errors):
        return True
    if isinstance(exc, asyncpg.interface_error):
        return any(mark in str(exc) for mark in _CLOSED_CONNECTION_MARKS)
    # Refused, reset and timed-out connections reach asyncpg's callers as the socket's own
    # OSError; the traceback tells them apart from an OSError of anything else.
    return isinstance(exc, OSError) and _raised_within(exc.__traceback__, "asyncpg")


def _raised_within(traceback: TracebackType | None, package: str) -> bool:
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module == package or module.startswith(f"{package}."):
            return True
        traceback = traceback.tb_next
    return False


@dataclass(frozen=True)
class _AsyncpgErrors:
    connection_errors: tuple[type[Exception], ...]
    interface_error: type[Exception]


@cache
def _asyncpg() -> _AsyncpgErrors | None:
    try:
        import asyncpg  # not every service talks to PostgreSQL
    except ImportError:
        return None
    return _AsyncpgErrors(
        connection_errors=(
            asyncpg.PostgresConnectionError,  # 08xxx: lost mid-operation, refused by the server
            asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
            asyncpg.AdminShutdownError,  # 57P01
            asyncpg.CrashShutdownError,  # 57P02
            asyncpg.TooManyConnectionsError,  # 53300
        ),
        interface_error=asyncpg.InterfaceError,
    )


@cache
def _mongo_errors() -> tuple[type[Exception], ...]:
    try:
        from pymongo.errors import ConnectionFailure  # AutoReconnect, NetworkTimeout, ...
    except ImportError:
        return ()
    return (ConnectionFailure,)


@cache
def _redis_errors() -> tuple[type[Exception], ...]:
    try:
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError:
        return ()
    return (ConnectionError, TimeoutError)
