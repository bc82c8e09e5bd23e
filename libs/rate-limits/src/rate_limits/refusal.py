"""The answer past a limit: 429 ``rate_limited`` with ``Retry-After``."""

from service_kit import ApiError


def rate_limited(message: str, retry_after: int) -> ApiError:
    """429 ``rate_limited`` with ``message``; ``Retry-After`` is ``retry_after`` seconds."""
    return ApiError(429, "rate_limited", message, headers={"Retry-After": str(retry_after)})
