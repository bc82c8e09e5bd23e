"""The last requests and the key each came with (its fingerprint only), for tests to see which
credential an answer was asked with (``GET /sim/requests``)."""

import time
from collections import deque
from typing import Literal

from pydantic import Field

from service_kit import CamelModel

KEEP = 500

KeyKind = Literal["bearer", "x-api-key", "sigv4"]


class RequestRecord(CamelModel):
    at: float = Field(description="Unix time the request arrived")
    method: str
    path: str
    key_kind: KeyKind | None = Field(description="How it was authenticated; null: no credential")
    key_fingerprint: str | None = Field(
        description="16 hex digits of the SHA-256 of the API key or AWS access key id"
    )
    accepted: bool


class RequestRecords:
    def __init__(self, keep: int = KEEP) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=keep)

    def add(
        self, method: str, path: str, kind: KeyKind | None, key_fingerprint: str | None, ok: bool
    ) -> None:
        self._records.append(
            RequestRecord(
                at=time.time(),
                method=method,
                path=path,
                key_kind=kind,
                key_fingerprint=key_fingerprint,
                accepted=ok,
            )
        )

    def newest_first(self, limit: int) -> list[RequestRecord]:
        return list(reversed(self._records))[:limit]
