"""Bedrock's error responses: JSON ``{"message"}`` and the type in ``x-amzn-ErrorType``."""

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class BedrockError(Exception):
    def __init__(self, error_type: str, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status
        self.message = message
        self.fields = fields

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"message": self.message, **self.fields},
            status_code=self.status,
            headers={"x-amzn-ErrorType": self.error_type, **request_id_header()},
        )


def validation_exception(message: str) -> BedrockError:
    return BedrockError("ValidationException", 400, message)


def throttling_exception() -> BedrockError:
    return BedrockError(
        "ThrottlingException", 429, "Too many requests, please wait before trying again."
    )


def internal_server_exception() -> BedrockError:
    return BedrockError(
        "InternalServerException", 500, "The server encountered an error (simulated fault)."
    )


def service_unavailable_exception() -> BedrockError:
    return BedrockError(
        "ServiceUnavailableException",
        503,
        "The model is unavailable right now (simulated: PUT /sim/models).",
    )


def model_error_exception() -> BedrockError:
    return BedrockError(
        "ModelErrorException",
        424,
        "The model failed while generating its answer (simulated fault).",
        originalStatusCode=500,
    )


def request_id_header() -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4())}


class BedrockRoute(APIRoute):
    """Answers invalid requests and simulated failures in Bedrock's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_as_bedrock(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                return validation_exception(_describe(exc)).response()
            except BedrockError as exc:
                return exc.response()

        return handle_as_bedrock


def _describe(exc: RequestValidationError) -> str:
    problems = [
        f"Value at '{'.'.join(str(part) for part in error['loc'][1:])}' failed to satisfy "
        f"constraint: {error['msg']}"
        for error in exc.errors()
    ]
    count = len(problems)
    return f"{count} validation error{'s' if count != 1 else ''} detected: " + "; ".join(problems)
