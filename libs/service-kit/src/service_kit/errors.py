"""The platform's error envelope: every error body is ``{message, code}`` (+ ``details``)."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from service_kit.outages import (
    DATABASE_UNAVAILABLE,
    REDIS_UNAVAILABLE,
    outage_code,
    outage_exception_types,
)

log = logging.getLogger(__name__)

# How long a client is told to wait before retrying a request refused by an outage: long
# enough not to hammer a database that is restarting, short enough that users barely notice.
OUTAGE_RETRY_AFTER_SECONDS = 3

_OUTAGE_MESSAGES = {
    DATABASE_UNAVAILABLE: "The database is unavailable; retry shortly",
    REDIS_UNAVAILABLE: "Redis is unavailable; retry shortly",
}

CODES_BY_STATUS = {
    400: "bad_request",
    401: "invalid_token",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorBody(BaseModel):
    message: str
    code: str
    details: Any | None = None


class ApiError(Exception):
    """Raise anywhere in a request to answer with the error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "code": code}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the envelope for these statuses."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The raw input is left out on purpose: it may hold a password.
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a JSON body that is not UTF-8 (RFC 8259 §8.1) with a bare 400; it is
        # malformed JSON like any other, so it gets the same 422 as a syntax error.
        return error_response(
            422,
            "validation_error",
            "Invalid request: body: JSON decode error",
            [{"field": "body", "message": "JSON decode error", "type": "json_invalid"}],
        )
    code = CODES_BY_STATUS.get(status, "error")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    if status == 404 and message == "Not Found":
        message = "Not found"
    return error_response(status, code, message, headers=getattr(exc, "headers", None))


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = _validation_details(exc)
    first = details[0] if details else {"field": "body", "message": "invalid"}
    message = f"Invalid request: {first['field']}: {first['message']}"
    return error_response(422, "validation_error", message, details)


async def _unstorable_text(request: Request, exc: Exception) -> JSONResponse:
    # A backstop: such text should have been refused by its field's type (service_kit.Text)
    # before it reached PostgreSQL. Whatever still does is the client's input, not a fault.
    log.warning(
        "text PostgreSQL cannot store reached the database",
        extra={"path": request.url.path, "sqlstate": getattr(exc, "sqlstate", None)},
    )
    return error_response(
        422,
        "validation_error",
        "Invalid request: text that cannot be stored",
        [
            {
                "field": "request",
                "message": "must not contain NUL or other characters that cannot be stored",
                "type": "string_not_storable",
            }
        ],
    )


def _unstorable_text_errors() -> tuple[type[Exception], ...]:
    """PostgreSQL's refusals of a string's characters (asyncpg), when the service uses it."""
    try:
        import asyncpg  # not every service talks to PostgreSQL
    except ImportError:
        return ()
    return (asyncpg.UntranslatableCharacterError, asyncpg.CharacterNotInRepertoireError)


async def _outage(request: Request, exc: Exception) -> JSONResponse:
    code = outage_code(exc)
    if code is None:
        raise exc  # not a store's connection failing: the last-resort 500 (middleware.py)
    # Expected while a store restarts, and the same for every request meanwhile: one line.
    log.warning("answered 503 %s", code, extra={"path": request.url.path, "error": repr(exc)})
    return error_response(
        503,
        code,
        _OUTAGE_MESSAGES[code],
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    # `exception_handler` takes a handler of the exception's own type (`add_exception_handler`
    # is typed for handlers of any Exception).
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    for refusal in _unstorable_text_errors():
        app.exception_handler(refusal)(_unstorable_text)
    # Handlers are found by the exception's class; _outage looks closer and re-raises what is
    # not an outage (an OSError of a file, an InterfaceError of a bug).
    for failure in outage_exception_types():
        app.exception_handler(failure)(_outage)
