"""Liveness that also says what this is: a development and test backend, not a model."""

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute

PURPOSE = "development and test backend: simulates model providers, generates no real answers"


async def health(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.service_name, "purpose": PURPOSE}


def answer_liveness_with_purpose(app: FastAPI) -> None:
    """Serve ``/api/health`` ahead of service_kit's route, with ``purpose`` added to its body.

    Routes match in order, so the first one wins; service_kit's stays in the OpenAPI document,
    whose schema (a map of strings) this body still fits.
    """
    route = APIRoute("/api/health", health, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, route)
