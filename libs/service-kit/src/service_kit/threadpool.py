"""Which route handlers and dependencies FastAPI would run in its thread pool.

FastAPI runs a plain ``def`` handler or dependency in a worker thread: a thread hop, and a
wait for one of its 40 threads when they are busy, on every request that uses it. A
dependency that only reads ``app.state`` cost four such hops on chat's stream route. The
services here have none; each service's tests check its app with ``threadpool_callables``.
"""

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def threadpool_callables(app: FastAPI) -> list[str]:
    """``"<path>: <callable>"`` for every synchronous handler or dependency of the app."""
    found: set[str] = set()

    def visit(dependant: Any, path: str) -> None:
        for dependency in dependant.dependencies:
            visit(dependency, path)
        call = dependant.call
        if call is not None and not _is_async(call):
            found.add(f"{path}: {getattr(call, '__qualname__', repr(call))}")

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                visit(route.dependant, route.path)
            # An included router (FastAPI keeps it whole and resolves its routes lazily).
            inner = getattr(getattr(route, "original_router", route), "routes", None)
            if inner is not None and inner is not routes:
                walk(inner)

    walk(app.routes)
    return sorted(found)


def _is_async(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    method = getattr(call, "__call__", None)  # noqa: B004 - instances with an async __call__
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
