"""A background loop: one step, run again and again in a task of its own until stopped.

After a step the loop waits ``interval`` seconds, or less if ``wake()`` is called meanwhile; a
step that knows more work is waiting calls ``wake()`` itself. A step that raises is handed to
``on_failure`` (by default logged with its traceback under the loop's name) and the loop goes
on. With a ``Backoff`` it then waits the backoff's delay, which ``wake()`` does not cut short
(new work does not make an unreachable server reachable); without one it waits ``interval``,
as after a success. ``stop()`` ends the loop at once, or lets the step in progress finish.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from background_loops.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """A step that raised ``error``: the ``consecutive``-th in a row, the next in ``retry_in``."""

    error: Exception
    consecutive: int
    retry_in: float


Step = Callable[[], Awaitable[object]]
FailureHandler = Callable[[Failure], Awaitable[None] | None]


class BackgroundLoop:
    """Runs ``step`` in a task named ``name``: at ``start()``, then ``interval`` seconds after
    each step ends or as soon as woken. A failed step is reported to ``on_failure`` and
    followed by the ``backoff`` delay, if one is given, else by ``interval``."""

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        interval: float,
        backoff: Backoff | None = None,
        on_failure: FailureHandler | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval
        self._backoff = backoff
        self._on_failure = on_failure or self._log_failure
        self.failures = 0  # steps that failed in a row; 0 after one succeeds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run the first step now and go on in the background; nothing if already running."""
        if self.is_running:
            return
        # A stop signal per run: a start() while an earlier run is still finishing its last
        # step (stop() with a grace) does not take back that run's stop.
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(self._stopping), name=self.name)

    def wake(self) -> None:
        """Start the next step as soon as the one in progress (if any) is over."""
        self._wake.set()

    async def stop(self, *, grace: float = 0.0) -> None:
        """Start no further step, give the one in progress up to ``grace`` seconds to finish,
        cancel it if it has not, and return once the loop has ended. Idempotent; nothing if
        the loop never started."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        if grace > 0:
            await asyncio.wait({task}, timeout=grace)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            # Cleared before the step, so a wake() during it is not lost.
            self._wake.clear()
            try:
                await self._step()
            except Exception as exc:
                self.failures += 1
                await self._back_off(exc, stopping)
                continue
            self.failures = 0
            await _wait(self._wake, self._interval)

    async def _back_off(self, error: Exception, stopping: asyncio.Event) -> None:
        if self._backoff is None:
            delay, interrupt = self._interval, self._wake
        else:
            delay, interrupt = self._backoff.delay(self.failures), stopping
        try:
            reported = self._on_failure(Failure(error, self.failures, delay))
            if reported is not None:
                await reported
        except Exception:
            log.exception("%s could not report a failed step", self.name)
        await _wait(interrupt, delay)

    def _log_failure(self, failure: Failure) -> None:
        log.error(
            "%s failed; retrying in %.1fs", self.name, failure.retry_in, exc_info=failure.error
        )


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set or ``seconds`` have passed."""
    # Yields at least once even when the event is set, so that a step that never awaits and
    # wakes its own loop cannot starve the event loop.
    await asyncio.sleep(0)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
