"""What chat stores in MongoDB, typed: one model per document shape, each field under the name
it has in the document (camelCase; ``_id`` for ``id``). Only the repository reads and writes
these documents; everyone else gets the models."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service_kit import CamelModel


class StoredDocument(CamelModel):
    """A MongoDB document read into a model: fields it does not name are ignored."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(alias="_id")


class SessionRecord(StoredDocument):
    user_id: str
    title: str
    model_id: str
    created_at: datetime
    updated_at: datetime | None = None
    message_count: int = 0
    deleted_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        """The stored document, every field present (``deletedAt: None`` while it lives)."""
        return self.model_dump(by_alias=True)


class TokenCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: int
    output: int


class StoredUsage(CamelModel):
    """The usage record an answer owes accounting, stored in the answer's own document: the
    ``usage.recorded`` event as it is published, and when the relay published it."""

    model_config = ConfigDict(frozen=True)

    event: dict[str, Any]
    published_at: datetime | None = None


class MessageRecord(StoredDocument):
    """A question (``role`` user) or an answer (``role`` assistant, with its ``status``,
    ``tokens`` and, until the relay has published it, ``usagePending``)."""

    session_id: str
    user_id: str
    role: Literal["user", "assistant"]
    content: str = ""
    model_id: str | None = None
    created_at: datetime
    # The answer's reservation at accounting, stored with its question and with the answer.
    streaming_session_id: str | None = None
    status: str | None = None
    tokens: TokenCounts | None = None
    credits_used: float | None = None
    usage: StoredUsage | None = None
    usage_pending: Literal[True] | None = None

    @property
    def tokens_used(self) -> int | None:
        return self.tokens.input + self.tokens.output if self.tokens else None

    def to_document(self) -> dict[str, Any]:
        """The stored document: fields without a value are left out, as they always were."""
        return self.model_dump(by_alias=True, exclude_none=True)


class UsageClaim(BaseModel):
    """Which relay holds a pending usage record, and until when."""

    model_config = ConfigDict(frozen=True)

    by: str
    until: datetime


class PendingUsage(StoredDocument):
    """An answer's usage record the relay has yet to publish (``id`` is the message's)."""

    usage: StoredUsage
    usage_claim: UsageClaim | None = None

    def claimable_by(self, claimant: str, at: datetime) -> bool:
        claim = self.usage_claim
        return claim is None or claim.by == claimant or claim.until < at
