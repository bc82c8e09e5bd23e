"""Running a bench to a clean end.

The event loop is uvloop's when it is installed (a cheaper loop for the client: it matters at
2,000 streams). A bench that leaves anything behind exits 1 and says what: a task exception
nobody retrieved, an error the loop reported, a warning (of any category, ResourceWarning
included), a task still pending when the bench returned, a child process still running.
"""

import asyncio
import gc
import os
import signal
import sys
import warnings
from collections.abc import Coroutine
from types import ModuleType
from typing import Any

from .proc import children

uvloop: ModuleType | None
try:
    import uvloop
except ImportError:
    uvloop = None

EVENT_LOOP = "uvloop" if uvloop is not None else "asyncio"


def _describe(task: "asyncio.Task[Any]") -> str:
    coroutine = task.get_coro()
    return getattr(coroutine, "__qualname__", None) or task.get_name()


async def _until_all_done(main: Coroutine[Any, Any, int | None], problems: list[str]) -> int:
    status = await main
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if left:
        names = ", ".join(sorted({_describe(task) for task in left}))
        problems.append(f"{len(left)} tasks still pending when the bench returned: {names}")
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
    return status or 0


def run(main: Coroutine[Any, Any, int | None]) -> None:
    """Run ``main`` and exit with its status (None: 0), or 1 when it did not end cleanly."""
    problems: list[str] = []

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        problems.append(f"event loop: {context.get('message')}: {context.get('exception')!r}")
        loop.default_exception_handler(context)

    status = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        loop_factory = uvloop.new_event_loop if uvloop is not None else None
        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.get_loop().set_exception_handler(on_loop_error)
                status = runner.run(_until_all_done(main, problems))
                gc.collect()  # a task that failed unseen says so when it is collected
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            status = 130
        gc.collect()
    problems.extend(
        "warning: " + warnings.formatwarning(w.message, w.category, w.filename, w.lineno).strip()
        for w in caught
    )
    left = children(os.getpid())
    if left:
        problems.append(f"child processes still running: {left} (sent SIGTERM)")
        for pid in left:
            os.kill(pid, signal.SIGTERM)
    if problems:
        print("the bench did not end cleanly:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(status or 1)
    sys.exit(status)
