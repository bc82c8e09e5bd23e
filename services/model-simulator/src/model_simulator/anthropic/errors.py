"""Anthropic's error responses: ``{"type": "error", "error": {"type", "message"}}`` with a
``request-id`` header."""

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from model_simulator.anthropic.schemas import ErrorBody, ErrorDetail


class AnthropicError(Exception):
    def __init__(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(error=ErrorDetail(type=error_type, message=message))
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body.model_dump(),
            status_code=self.status,
            headers={**request_id_header(), **self.headers},
        )


def invalid_request(message: str) -> AnthropicError:
    return AnthropicError(400, "invalid_request_error", message)


def rate_limited() -> AnthropicError:
    return AnthropicError(
        429,
        "rate_limit_error",
        "Number of requests has exceeded your rate limit (simulated fault).",
        headers={"retry-after": "1"},
    )


def api_error() -> AnthropicError:
    return AnthropicError(500, "api_error", "Internal server error (simulated fault).")


def overloaded() -> AnthropicError:
    """What Anthropic answers when it cannot serve the model now (HTTP 529)."""
    return AnthropicError(
        529, "overloaded_error", "The model is unavailable right now (simulated: PUT /sim/models)."
    )


def not_found(model: str) -> AnthropicError:
    return AnthropicError(404, "not_found_error", f"model: {model}")


def request_id_header() -> dict[str, str]:
    return {"request-id": f"req_sim_{uuid.uuid4().hex}"}


class AnthropicRoute(APIRoute):
    """Answers invalid requests and simulated failures in Anthropic's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_as_anthropic(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"][1:]) or "body"
                return invalid_request(f"{where}: {first['msg']}").response()
            except AnthropicError as exc:
                return exc.response()

        return handle_as_anthropic
