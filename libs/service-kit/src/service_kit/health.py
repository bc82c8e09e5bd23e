"""Liveness and readiness: ``/api/health`` and ``/api/health/ready``."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service_kit.errors import ErrorBody, error_response

log = logging.getLogger(__name__)

# A readiness check returns normally when its dependency answers and raises when it does not.
ReadinessCheck = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_SECONDS = 2.0

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", summary="Liveness: the process is up")
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.service_name}


@router.get(
    "/ready",
    summary="Readiness: every dependency answers",
    responses={503: {"model": ErrorBody, "description": "A dependency is down"}},
)
async def ready(request: Request) -> JSONResponse:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    status = dict(zip(checks, results, strict=True))
    down = [name for name, result in status.items() if result != "ok"]
    if down:
        return error_response(
            503, "not_ready", f"Not ready: {', '.join(down)} unavailable", {"checks": status}
        )
    service = request.app.state.service_name
    return JSONResponse({"status": "ready", "service": service, "checks": status})


async def _run(name: str, check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
        return "down"
    return "ok"
