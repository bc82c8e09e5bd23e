"""A response as kept for a key, and how a route answers it again."""

from dataclasses import dataclass
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from service_kit import ErrorBody

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes
    content_type: str

    @classmethod
    def json(cls, status_code: int, model: BaseModel) -> "StoredResponse":
        """A model rendered as the route renders it (by alias)."""
        return cls(status_code, model.model_dump_json(by_alias=True).encode(), "application/json")

    def response(self, *, replayed: bool) -> Response:
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return Response(
            self.body,
            status_code=self.status_code,
            media_type=self.content_type,
            headers=headers,
        )


def replayed_header_doc() -> dict[str, Any]:
    """The OpenAPI ``headers`` entry of a success response that may be a replay."""
    return {
        REPLAYED_HEADER: {
            "description": "`true` when this is the first response to the same "
            "Idempotency-Key, answered again",
            "schema": {"type": "string", "enum": ["true"]},
        }
    }


# What a route taking the key adds to its documented answers.
IDEMPOTENCY_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorBody,
        "description": "`idempotency_key_in_progress`: a request with this key is still running",
    },
    422: {
        "model": ErrorBody,
        "description": "A malformed request, or `idempotency_key_reused`: this key was used "
        "with another body",
    },
}
