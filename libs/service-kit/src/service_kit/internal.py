"""Service-to-service routes under ``/internal``, guarded by one shared token.

``/internal`` sits outside every gateway prefix, so only the platform's own services reach it;
the ``X-Internal-Token`` header is the second lock (``INTERNAL_TOKEN``, a development default
that production refuses).
"""

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from service_kit.errors import ApiError
from service_kit.settings import dev_secret

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


class InternalTokenSettings(BaseModel):
    """Mix into a service's settings to serve or call ``/internal`` routes."""

    internal_token: str = dev_secret(
        "dev-internal-token", description="Shared by the platform's services for /internal routes"
    )


async def _require_internal_caller(
    request: Request,
    x_internal_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    expected: str = request.app.state.settings.internal_token
    if x_internal_token is None:
        raise ApiError(401, "invalid_token", f"Internal routes need {INTERNAL_TOKEN_HEADER}")
    if not hmac.compare_digest(x_internal_token.encode(), expected.encode()):
        raise ApiError(403, "forbidden", f"Wrong {INTERNAL_TOKEN_HEADER}")


InternalCaller = Depends(_require_internal_caller)
"""Put in a router's ``dependencies=[...]``; the app's settings must have ``internal_token``."""


def internal_headers(settings: InternalTokenSettings) -> dict[str, str]:
    return {INTERNAL_TOKEN_HEADER: settings.internal_token}
