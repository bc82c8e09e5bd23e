"""Ledger operations on one account, run in batches: one transaction and one commit each.

A hot account is as fast as its row lock lets it be, and the lock is held until the commit's
WAL flush, which costs more than the operation itself. So operations on the same account that
arrive while a batch is running wait, and then run together in the next batch: one lock
acquisition and one commit for all of them. Every caller still gets its own result, and only
once its batch has committed. If a batch fails, its operations are run again one by one (the
failed transaction changed nothing), so an error reaches only the caller it belongs to.

Batching is per process; replicas each batch their own callers, and the account row lock
keeps them correct against each other.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from accounting.database import Connection

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[Connection], Awaitable[Any]]
Pending = tuple[Operation, asyncio.Future[Any]]


class AccountBatcher:
    """Operations must each be one statement (a ledger function call), or be safe to run
    inside a caller-less transaction: a batch of one runs without BEGIN/COMMIT."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 64) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._queues: dict[UUID, deque[Pending]] = {}
        self._workers: dict[UUID, asyncio.Task[None]] = {}
        self.batches_committed = 0

    async def run(self, account_id: UUID, operation: Callable[[Connection], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(account_id, deque()).append((operation, future))
        if account_id not in self._workers:
            self._workers[account_id] = asyncio.create_task(
                self._drain(account_id), name=f"ledger-batch-{account_id}"
            )
        return await future

    async def _drain(self, account_id: UUID) -> None:
        queue = self._queues[account_id]
        try:
            while queue:
                batch = [queue.popleft() for _ in range(min(len(queue), self._max_batch))]
                batch = [(op, future) for op, future in batch if not future.cancelled()]
                if batch:
                    await self._run_batch(batch)
        finally:
            # No await between the last check of the queue and this clean-up, so a caller
            # cannot enqueue onto a queue nobody drains.
            del self._workers[account_id]
            del self._queues[account_id]

    async def _run_batch(self, batch: list[Pending]) -> None:
        try:
            async with self._pool.acquire() as conn:
                if len(batch) == 1:
                    # One statement commits on its own: BEGIN/COMMIT would be two round trips more.
                    results = [await batch[0][0](conn)]
                else:
                    async with conn.transaction():
                        results = [await operation(conn) for operation, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                _settle_future(batch[0][1], error=exc)
                return
            log.warning(
                "ledger batch failed; running its operations one by one",
                extra={"operations": len(batch), "error": repr(exc)},
            )
            for item in batch:
                await self._run_batch([item])
            return
        self.batches_committed += 1
        for (_, future), result in zip(batch, results, strict=True):
            _settle_future(future, result=result)


def _settle_future(
    future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # the caller gave up (cancelled); what was done stays done
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
