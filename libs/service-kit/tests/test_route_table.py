"""Every route is built when the app starts, not on the request that first reaches it."""

from typing import Annotated, Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Query
from prometheus_client import REGISTRY
from pydantic_core import core_schema

from service_kit import ServiceSettings, create_app


class Recorded(str):
    """A parameter type that counts how often FastAPI builds a validator for it."""

    builds = 0

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        cls.builds += 1
        return core_schema.no_info_plain_validator_function(cls)


router = APIRouter(prefix="/api/probe")


@router.get("/echo")
async def echo(value: Annotated[Recorded, Query()] = "x") -> dict:
    return {"value": value}


def unmatched_requests() -> float:
    return (
        REGISTRY.get_sample_value(
            "http_requests_total",
            {"service": "route-table-test", "method": "GET", "route": "unmatched", "status": "404"},
        )
        or 0.0
    )


async def test_routes_are_built_at_start_up_and_nothing_is_dispatched_or_counted():
    app = create_app(ServiceSettings(service_name="route-table-test"), title="t", routers=[router])
    before_start, unmatched = Recorded.builds, unmatched_requests()

    async with LifespanManager(app):
        at_start = Recorded.builds
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/api/probe/echo", params={"value": "hi"})

    assert at_start > before_start  # built while starting
    assert Recorded.builds == at_start  # and not again for the first request
    assert answer.json() == {"value": "hi"}
    assert unmatched_requests() == unmatched  # the build matched a path, served nothing
