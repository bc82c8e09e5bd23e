"""Reading what a service's lifespan put in ``app.state`` from a route."""

from collections.abc import Callable
from typing import Any

from fastapi import Request


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency returning ``request.app.state.<name>``; use with ``Annotated``."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get
