"""OpenAI's error responses: ``{"error": {message, type, param, code}}``."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "type": error_type, "param": param, "code": code}
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.body}, status_code=self.status, headers=self.headers)


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, "invalid_request_error", param=param, code=code)


def rate_limited() -> OpenAIError:
    return OpenAIError(
        429,
        "Rate limit reached for requests (simulated fault). Please try again in 1s.",
        "requests",
        code="rate_limit_exceeded",
        headers={"retry-after": "1"},
    )


def server_error() -> OpenAIError:
    return OpenAIError(
        500,
        "The server had an error while processing your request (simulated fault).",
        "server_error",
    )


def model_unavailable() -> OpenAIError:
    return OpenAIError(
        503,
        "The model is unavailable right now (simulated: PUT /sim/models).",
        "server_error",
        code="service_unavailable",
    )


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        "invalid_request_error",
        param="model",
        code="model_not_found",
    )


class OpenAIRoute(APIRoute):
    """Answers invalid requests and simulated failures in OpenAI's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_as_openai(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                first = exc.errors()[0]
                param = ".".join(str(part) for part in first["loc"][1:]) or None
                return invalid_request(
                    f"Invalid value for '{param}': {first['msg']}", param
                ).response()
            except OpenAIError as exc:
                return exc.response()

        return handle_as_openai
