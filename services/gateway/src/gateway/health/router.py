"""``GET /api/health/ready`` for the gateway: its own Redis and every upstream's readiness."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.health.service import Readiness
from service_kit.errors import error_response

# Out of the schema: the service kit's route documents the path (see main.py).
router = APIRouter(prefix="/api/health", tags=["health"], include_in_schema=False)


@router.get("/ready")
async def gateway_ready(request: Request) -> JSONResponse:
    """Redis answers and every required upstream is ready (OPTIONAL_UPSTREAMS may be down)."""
    readiness: Readiness = request.app.state.readiness
    is_ready, report = await readiness.report(request.state.request_id)
    down = report.pop("down")
    if not is_ready:
        return error_response(503, "not_ready", f"Not ready: {', '.join(down)} unavailable", report)
    service = request.app.state.service_name
    return JSONResponse({"status": "ready", "service": service, **report})
