"""The one module of service-kit that relies on FastAPI beyond its documented API.

Both functions read an app's routes through ``fastapi.routing.iter_route_contexts``, public
since FastAPI 0.137.2 for code that used to read ``router.routes`` (an included router is now
a node of a tree, not copied routes). Each also relies on something FastAPI does not promise:

- ``build_route_table``: that walking the contexts builds every included router's routes.
  FastAPI otherwise builds them on the first request that reaches the router: for chat ~90 ms
  of pydantic schema work (first request 92 ms, the next ones 1-2 ms) that also stalls every
  other request and stream on the event loop at that moment.
- ``threadpool_callables``: the dependency tree of a route (``Dependant``: ``call`` and
  ``dependencies``), and that FastAPI runs a plain ``def`` handler or dependency in its thread
  pool: a thread hop, and a wait for one of its 40 threads when they are busy, on every
  request that uses it. A dependency that only read ``app.state`` cost four such hops on
  chat's stream route; each service's tests check its app has none.

``TESTED_WITH`` names the versions this was checked against; ``tests/test_fastapi_internals.py``
fails on any other, so an upgrade is a decision to re-check this module, not a surprise.
"""

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

TESTED_WITH = {"fastapi": "~=0.165.0", "starlette": "~=1.10.0"}


def build_route_table(app: FastAPI) -> None:
    """Build every route of the app now rather than on the first request reaching it."""
    for _ in iter_route_contexts(app.router.routes):
        pass


def threadpool_callables(app: FastAPI) -> list[str]:
    """``"<path>: <callable>"`` for every synchronous handler or dependency of the app."""
    found: set[str] = set()

    def visit(dependant: Dependant, path: str) -> None:
        for dependency in dependant.dependencies:
            visit(dependency, path)
        call = dependant.call
        if call is not None and not _is_async(call):
            found.add(f"{path}: {getattr(call, '__qualname__', repr(call))}")

    for context in iter_route_contexts(app.router.routes):
        if isinstance(context.original_route, APIRoute):
            # With the included routers' own dependencies, which the route alone lacks.
            dependant: Dependant = context.dependant
            visit(dependant, str(context.path))
    return sorted(found)


def _is_async(call: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    method = getattr(call, "__call__", None)  # noqa: B004 - instances with an async __call__
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
