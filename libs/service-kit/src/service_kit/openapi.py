"""The OpenAPI schema says what a service really answers with its errors.

FastAPI documents every 422 as its own ``HTTPValidationError`` (``{detail: [...]}``), while
the service answers the envelope (``errors.py``); and it does not know of the body limit.
Here, once, when the schema is built: every 422 is the envelope, and every operation that
takes a request body lists ``413 payload_too_large``. A service backed by a database also
lists, on every operation but health, the ``503`` it answers while that store is unreachable
(``errors.py``), with its ``Retry-After``.
"""

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from service_kit.errors import OUTAGE_RETRY_AFTER_SECONDS, ErrorBody

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF_PREFIX = "#/components/schemas/"
_ENVELOPE = {"$ref": f"{_REF_PREFIX}ErrorBody"}
_FASTAPI_422 = f"{_REF_PREFIX}HTTPValidationError"
_HEALTH_PREFIX = "/api/health"
_OUTAGE_DESCRIPTION = (
    "Service Unavailable: a database or cache it needs is unreachable "
    "(`database_unavailable`, `redis_unavailable`); retry after `Retry-After` seconds"
)


class DocumentedApp(FastAPI):
    """A FastAPI app whose schema documents the envelope, the body limit and, with
    ``outage_responses``, the 503 of a store outage."""

    outage_responses = False

    def openapi(self) -> dict[str, Any]:
        previous = self.openapi_schema
        schema = super().openapi()
        if schema is not previous:  # built now: the first time, or routes changed since
            document_errors(schema)
            if self.outage_responses:
                document_outages(schema)
        return schema


def document_outages(schema: dict[str, Any]) -> None:
    """List the 503 of a store outage on every operation but health (which has its own)."""
    for path, path_item in schema.get("paths", {}).items():
        if path.startswith(_HEALTH_PREFIX):
            continue
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if "503" in responses:  # the operation's own 503 (a peer service down) says more
                continue
            responses["503"] = {
                "description": _OUTAGE_DESCRIPTION,
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait before retrying",
                        "schema": {"type": "integer", "example": OUTAGE_RETRY_AFTER_SECONDS},
                    }
                },
                "content": {"application/json": {"schema": dict(_ENVELOPE)}},
            }


def document_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorBody" not in components:
        components["ErrorBody"] = ErrorBody.model_json_schema(
            ref_template=_REF_PREFIX + "{model}", mode="serialization"
        )
    for path_item in schema.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            invalid = responses.get("422")
            if invalid is not None and _schema_of(invalid).get("$ref") == _FASTAPI_422:
                invalid["content"]["application/json"]["schema"] = dict(_ENVELOPE)
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {
                    "description": HTTPStatus(413).phrase,
                    "content": {"application/json": {"schema": dict(_ENVELOPE)}},
                }
    _drop_unused(components, "HTTPValidationError", schema)
    _drop_unused(components, "ValidationError", schema)


def _schema_of(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = (
        response.get("content", {}).get("application/json", {}).get("schema", {})
    )
    return schema


def _drop_unused(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name not in components:
        return
    definition = components.pop(name)
    if f'"{_REF_PREFIX}{name}"' in json.dumps(schema):
        components[name] = definition
