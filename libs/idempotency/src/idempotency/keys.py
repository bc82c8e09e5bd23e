"""The ``Idempotency-Key`` header as a FastAPI dependency, with what identifies the request."""

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class IdempotentRequest:
    """A request sent with a key: the key, the path it was sent to and its body's SHA-256."""

    key: str
    route: str
    body_sha256: bytes


async def idempotent_request(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            description="Retry safely: the same key and body within 24 h answer the first "
            "response again (with `Idempotent-Replayed: true`) instead of doing it twice; the "
            "same key with another body is 422 `idempotency_key_reused`. Keys are per caller.",
        ),
    ] = None,
) -> IdempotentRequest | None:
    if key is None:
        return None
    # FastAPI has read the body for the route's model already: Starlette keeps it.
    body = await request.body()
    return IdempotentRequest(
        key=key,
        route=f"{request.method} {request.url.path}",
        body_sha256=hashlib.sha256(body).digest(),
    )


IdempotencyKey = Annotated[IdempotentRequest | None, Depends(idempotent_request)]
