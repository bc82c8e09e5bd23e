"""A loop runs its step every interval or when woken, outlives failing steps and stops cleanly."""

import asyncio
import logging
import time
from collections.abc import Callable

import pytest

from background_loops import BackgroundLoop, Backoff, Failure

DEADLINE = 5.0


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class Steps:
    """A step that counts its runs and raises the errors it is given, in turn."""

    def __init__(self, *errors: Exception) -> None:
        self.runs = 0
        self.errors = list(errors)

    async def __call__(self) -> None:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)


async def test_the_step_runs_at_start_and_again_every_interval():
    step = Steps()
    loop = BackgroundLoop("every", step, interval=0.01)
    loop.start()
    try:
        assert loop.is_running
        await eventually(lambda: step.runs >= 3, "three steps")
    finally:
        await loop.stop()
    assert not loop.is_running


async def test_between_steps_the_loop_waits_its_interval_unless_woken():
    step = Steps()
    loop = BackgroundLoop("woken", step, interval=30)
    loop.start()
    try:
        await eventually(lambda: step.runs == 1, "the first step")
        await asyncio.sleep(0.05)
        assert step.runs == 1
        loop.wake()
        await eventually(lambda: step.runs == 2, "the woken step")
        await asyncio.sleep(0.05)
        assert step.runs == 2
    finally:
        await loop.stop()


async def test_a_wake_during_a_step_runs_the_next_one_at_once():
    entered, release = asyncio.Event(), asyncio.Event()
    runs = 0

    async def step() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            entered.set()
            await release.wait()

    loop = BackgroundLoop("woken-meanwhile", step, interval=30)
    loop.start()
    try:
        await asyncio.wait_for(entered.wait(), DEADLINE)
        loop.wake()
        release.set()
        await eventually(lambda: runs == 2, "the step after the wake")
    finally:
        await loop.stop()


async def test_a_step_that_wakes_its_own_loop_runs_again_without_starving_others():
    runs = 0

    async def step() -> None:  # never awaits: the loop itself must yield
        nonlocal runs
        runs += 1
        if runs < 100:
            loop.wake()

    loop = BackgroundLoop("busy", step, interval=30)
    loop.start()
    try:
        await eventually(lambda: runs == 100, "a hundred steps")
    finally:
        await loop.stop()


async def test_a_step_that_raises_is_reported_and_the_loop_goes_on():
    step = Steps(KeyError("a bug"), OSError("refused"))
    failures: list[Failure] = []
    loop = BackgroundLoop("flaky", step, interval=0.01, on_failure=failures.append)
    loop.start()
    try:
        await eventually(lambda: step.runs >= 4, "steps after the failures")
        assert loop.is_running
        assert loop.failures == 0  # the last step succeeded
    finally:
        await loop.stop()
    assert [(type(f.error), f.consecutive, f.retry_in) for f in failures] == [
        (KeyError, 1, 0.01),
        (OSError, 2, 0.01),
    ]


async def test_failures_are_counted_in_a_row_until_a_step_succeeds():
    step = Steps(*(RuntimeError(str(n)) for n in range(3)))
    counts: list[int] = []

    async def record() -> None:  # what the count was before each step
        counts.append(loop.failures)
        await step()

    loop = BackgroundLoop("counted", record, interval=0.01, on_failure=lambda f: None)
    loop.start()
    try:
        await eventually(lambda: len(counts) >= 5, "five steps")
    finally:
        await loop.stop()
    assert counts[:5] == [0, 1, 2, 3, 0]


async def test_by_default_a_failure_is_logged_with_the_loop_name_and_its_traceback(caplog):
    step = Steps(KeyError("a bug"))
    loop = BackgroundLoop("named-loop", step, interval=0.01)
    with caplog.at_level(logging.ERROR, logger="background_loops"):
        loop.start()
        try:
            await eventually(lambda: step.runs >= 2, "the step after the failure")
        finally:
            await loop.stop()
    [record] = [r for r in caplog.records if r.name.startswith("background_loops")]
    assert "named-loop failed" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)


async def test_an_async_failure_handler_is_awaited_and_one_that_raises_ends_nothing(caplog):
    step = Steps(ValueError("first"), ValueError("second"))
    reported: list[str] = []

    async def report(failure: Failure) -> None:
        await asyncio.sleep(0)
        reported.append(str(failure.error))
        if len(reported) == 1:
            raise RuntimeError("the handler is broken too")

    loop = BackgroundLoop("reported", step, interval=0.01, on_failure=report)
    with caplog.at_level(logging.ERROR, logger="background_loops"):
        loop.start()
        try:
            await eventually(lambda: step.runs >= 3, "steps after both failures")
        finally:
            await loop.stop()
    assert reported == ["first", "second"]
    assert any("reported could not report" in r.getMessage() for r in caplog.records)


async def test_a_backoff_grows_with_failures_and_a_wake_does_not_cut_it_short():
    step = Steps(*(OSError("down") for _ in range(10)))
    failures: list[Failure] = []
    loop = BackgroundLoop(
        "backing-off",
        step,
        interval=0.01,
        backoff=Backoff(first=0.05, most=30),
        on_failure=failures.append,
    )
    loop.start()
    try:
        await eventually(lambda: len(failures) == 4, "four failures")
        assert [f.retry_in for f in failures] == [0.05, 0.1, 0.2, 0.4]
        loop.wake()  # now waiting 0.4 s, which a wake does not shorten
        await asyncio.sleep(0.1)
        assert step.runs == 4
    finally:
        started = time.monotonic()
        await loop.stop()
    assert time.monotonic() - started < 0.3  # stop does cut it short


async def test_stop_cancels_a_step_in_progress():
    entered = asyncio.Event()
    cancelled = False

    async def step() -> None:
        nonlocal cancelled
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled = True
            raise

    loop = BackgroundLoop("cancelled", step, interval=30)
    loop.start()
    await asyncio.wait_for(entered.wait(), DEADLINE)
    await asyncio.wait_for(loop.stop(), DEADLINE)
    assert cancelled
    assert not loop.is_running


async def test_stop_with_grace_lets_the_step_finish_and_starts_no_other():
    entered, release = asyncio.Event(), asyncio.Event()
    runs, finished = 0, 0

    async def step() -> None:
        nonlocal runs, finished
        runs += 1
        entered.set()
        await release.wait()
        finished += 1

    loop = BackgroundLoop("graceful", step, interval=0)
    loop.start()
    await asyncio.wait_for(entered.wait(), DEADLINE)
    loop.wake()  # would run another step at once, were the loop not stopping
    stopping = asyncio.create_task(loop.stop(grace=DEADLINE))
    await asyncio.sleep(0.02)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, DEADLINE)
    assert (runs, finished) == (1, 1)


async def test_a_step_that_outlasts_the_grace_is_cancelled():
    entered = asyncio.Event()

    async def step() -> None:
        entered.set()
        await asyncio.sleep(30)

    loop = BackgroundLoop("stuck", step, interval=30)
    loop.start()
    await asyncio.wait_for(entered.wait(), DEADLINE)
    started = time.monotonic()
    await loop.stop(grace=0.05)
    assert 0.04 < time.monotonic() - started < 1
    assert not loop.is_running


async def test_stop_is_safe_before_start_and_twice_and_start_is_idempotent():
    step = Steps()
    loop = BackgroundLoop("idempotent", step, interval=30)
    await loop.stop()
    loop.start()
    loop.start()
    await eventually(lambda: step.runs == 1, "the first step")
    await asyncio.sleep(0.02)
    assert step.runs == 1  # one task, not two
    await loop.stop()
    await loop.stop()
    assert not loop.is_running


async def test_a_stopped_loop_starts_again():
    step = Steps()
    loop = BackgroundLoop("restarted", step, interval=30)
    loop.start()
    await eventually(lambda: step.runs == 1, "the first run's step")
    await loop.stop()
    loop.start()
    try:
        await eventually(lambda: step.runs == 2, "the second run's step")
        assert loop.is_running
    finally:
        await loop.stop()


async def test_the_task_is_named_after_the_loop():
    names: list[str] = []

    async def step() -> None:
        task = asyncio.current_task()
        assert task is not None
        names.append(task.get_name())

    loop = BackgroundLoop("hold-sweeper", step, interval=30)
    loop.start()
    try:
        await eventually(lambda: bool(names), "the step")
    finally:
        await loop.stop()
    assert names == ["hold-sweeper"]
