"""Liveness and readiness: ``/api/health`` and ``/api/health/ready``.

A dependency the service cannot work without (its database, its cache) makes it not ready
(503) while it is down. A dependency whose outage the service rides out, such as RabbitMQ
behind an outbox and consumers that catch up when it is back, is registered as
``Degradable(check)``: while only such checks fail, readiness stays 200 with ``status:
"degraded"``, so a load balancer keeps sending the requests the service can still serve.
``covered`` says when the outage is ridden out: a consumer's events wait for it in its queue
only once it has declared that queue, so until then the broker being down is still a 503.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service_kit.errors import ErrorBody, error_response

log = logging.getLogger(__name__)

# A readiness check returns normally when its dependency answers and raises when it does not.
ReadinessCheck = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_SECONDS = 2.0

CheckStatus = Literal["ok", "down"]


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Degradable:
    """A check whose failure degrades the service without making it unready, whenever
    ``covered()`` holds (by default, always)."""

    check: ReadinessCheck
    covered: Callable[[], bool] = _always

    def __call__(self) -> Awaitable[object]:
        return self.check()


class Readiness(BaseModel):
    status: Literal["ready", "degraded"]
    service: str
    checks: dict[str, CheckStatus]


router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", summary="Liveness: the process is up")
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.service_name}


@router.get(
    "/ready",
    summary="Readiness: every dependency the service needs answers",
    response_model=Readiness,
    responses={
        200: {
            "description": '`"ready"`: every check is `ok`. `"degraded"`: only dependencies '
            "the service rides out are `down` (RabbitMQ: events wait in the outbox and "
            "queues), so it still serves requests"
        },
        503: {"model": ErrorBody, "description": "A dependency it needs is down"},
    },
)
async def ready(request: Request) -> JSONResponse:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    status: dict[str, CheckStatus] = dict(zip(checks, results, strict=True))
    down = [name for name, result in status.items() if result != "ok"]
    required_down = [name for name in down if not _ridden_out(checks[name])]
    if required_down:
        return error_response(
            503, "not_ready", f"Not ready: {', '.join(down)} unavailable", {"checks": status}
        )
    body = Readiness(
        status="degraded" if down else "ready",
        service=request.app.state.service_name,
        checks=status,
    )
    return JSONResponse(body.model_dump())


def _ridden_out(check: ReadinessCheck) -> bool:
    return isinstance(check, Degradable) and check.covered()


async def _run(name: str, check: ReadinessCheck) -> CheckStatus:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
        return "down"
    return "ok"
