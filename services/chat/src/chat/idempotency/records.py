"""A key as chat keeps it in MongoDB, typed (fields under their document names)."""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict

from service_kit import CamelModel


class KeyRecord(CamelModel):
    """One caller's key: what it was first sent with, who holds it and what it got."""

    model_config = ConfigDict(frozen=True)

    caller: str
    key: str
    route: str
    request_sha256: bytes
    claim: str  # the holder's own id: only it records the response or gives the key up
    work_id: str  # names what the work makes (a session's id), the same for a taker-over
    lease_until: datetime  # past it, a holder that recorded nothing is taken over
    created_at: datetime
    expires_at: datetime  # the TTL index removes the document after it
    streaming_session_id: str | None = None  # the answer the key started
    status_code: int | None = None
    body: bytes | None = None
    content_type: str | None = None

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)
