"""An asyncpg pool whose first acquisitions fail, as asyncpg's do once its connection is gone:
for testing that a background loop survives a failure that is not a ``PostgresError``."""

import asyncpg
from asyncpg.pool import PoolAcquireContext


class FailingPool:
    def __init__(self, pool: "asyncpg.Pool[asyncpg.Record]", failures: int) -> None:
        self.pool = pool
        self.failures = failures
        self.attempts = 0

    def acquire(self) -> "PoolAcquireContext[asyncpg.Record]":
        self.attempts += 1
        if self.attempts <= self.failures:
            raise asyncpg.InterfaceError("cannot perform operation: connection is closed")
        return self.pool.acquire()
