"""The event envelope: a flat JSON object with four envelope fields and the body's fields.

``{"eventId": "<uuid>", "type": "user.registered", "occurredAt": "<RFC 3339>", "version": 1,
...body}``. ``eventId`` is the idempotency key, ``type`` is also the routing key.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
)

from event_bus.errors import MalformedEvent

ENVELOPE_FIELDS = frozenset({"eventId", "type", "occurredAt", "version"})

# Dot-separated words: a valid topic routing key without the binding wildcards * and #.
_TYPE_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_event(type: str, body: dict[str, Any], *, version: int = 1) -> dict[str, Any]:
    """A fresh event of ``type``: new ``eventId``, ``occurredAt`` now."""
    clashing = ENVELOPE_FIELDS & body.keys()
    if clashing:
        raise ValueError(f"body fields clash with envelope fields: {sorted(clashing)}")
    event = {
        "eventId": str(uuid.uuid4()),
        "type": type,
        "occurredAt": format_timestamp(datetime.now(UTC)),
        "version": version,
        **body,
    }
    Event.from_dict(event)  # fail here, at the producer, rather than in every consumer
    return event


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    eventId: UUID
    type: Annotated[str, Field(pattern=_TYPE_PATTERN, max_length=255)]
    occurredAt: AwareDatetime
    version: Annotated[StrictInt, Field(ge=1)]

    @field_validator("occurredAt", mode="before")
    @classmethod
    def _timestamp_text(cls, value: object) -> object:
        # Lax pydantic would also take a number of seconds; the contract says RFC 3339.
        if not isinstance(value, str | datetime):
            raise ValueError("must be an RFC 3339 timestamp string")
        return value


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "event"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _json_default(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_event(event: dict[str, Any]) -> bytes:
    """The event as compact UTF-8 JSON (UUID and datetime values become strings)."""
    return json.dumps(event, default=_json_default, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Event:
    event_id: UUID
    type: str
    occurred_at: datetime
    version: int
    body: dict[str, Any]

    @classmethod
    def from_dict(cls, data: object) -> "Event":
        if not isinstance(data, dict):
            raise MalformedEvent(f"an event is a JSON object, not {type(data).__name__}")
        try:
            envelope = _Envelope.model_validate(data)
        except ValidationError as exc:
            raise MalformedEvent(_describe(exc)) from None
        return cls(
            event_id=envelope.eventId,
            type=envelope.type,
            occurred_at=envelope.occurredAt,
            version=envelope.version,
            body={k: v for k, v in data.items() if k not in ENVELOPE_FIELDS},
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Event":
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEvent(f"not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "eventId": str(self.event_id),
            "type": self.type,
            "occurredAt": format_timestamp(self.occurred_at),
            "version": self.version,
            **self.body,
        }
