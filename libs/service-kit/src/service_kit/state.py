"""Reading what a service's lifespan put in ``app.state`` from a route."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request


def app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning ``request.app.state.<name>``; use with ``Annotated``."""

    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per use
    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get
