"""Dead letters: the copy of a failed message put in ``<queue>.dlq``, carrying why it failed.

The consumer publishes the copy to the dead-letter exchange with these headers and then acks
the original, so the DLQ says what went wrong, not only that something did:

* ``x-error-reason``: the handler's error message (or why the message is malformed),
* ``x-error-type``: the exception's class (``MalformedEvent``, ``PermanentEventError``, ...),
* ``x-failed-at``: when it was dead-lettered (RFC 3339, UTC),
* ``x-attempts``: how many times the handler ran,
* ``x-original-queue``: the queue it came from, where a replay puts it back.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, HeadersType

from event_bus.envelope import format_timestamp
from event_bus.topology import dead_letter_queue

REASON = "x-error-reason"
ERROR_TYPE = "x-error-type"
FAILED_AT = "x-failed-at"
ATTEMPTS = "x-attempts"
ORIGINAL_QUEUE = "x-original-queue"
DEAD_LETTER_HEADERS = (REASON, ERROR_TYPE, FAILED_AT, ATTEMPTS, ORIGINAL_QUEUE)

_MAX_REASON_CHARS = 2000  # an AMQP header is not a log: enough to tell what went wrong


def dead_letter_copy(
    message: AbstractIncomingMessage,
    *,
    queue: str,
    reason: str,
    error_type: str,
    attempts: int,
) -> aio_pika.Message:
    """``message`` as it goes to the DLQ: the same body and properties, plus the reason."""
    headers: HeadersType = {
        **(message.headers or {}),
        REASON: reason[:_MAX_REASON_CHARS],
        ERROR_TYPE: error_type,
        FAILED_AT: format_timestamp(datetime.now(UTC)),
        ATTEMPTS: attempts,
        ORIGINAL_QUEUE: queue,
    }
    return _copy(message, headers)


def replay_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    """A dead letter as it goes back to its queue: the reason of its last failure removed."""
    headers = {
        key: value
        for key, value in (message.headers or {}).items()
        if key not in DEAD_LETTER_HEADERS and key != "x-death"
    }
    return _copy(message, headers)


def _copy(message: AbstractIncomingMessage, headers: HeadersType) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        correlation_id=message.correlation_id,
        app_id=message.app_id,
    )


@dataclass(frozen=True)
class DeadLetter:
    """What a dead letter says about itself, for people deciding whether to replay it."""

    event_id: str
    type: str
    reason: str
    error_type: str
    failed_at: str
    attempts: int | None
    original_queue: str

    @classmethod
    def of(cls, message: AbstractIncomingMessage, dlq: str) -> "DeadLetter":
        headers = message.headers or {}
        death = _first_death(headers)
        body = _json_object(message.body)
        return cls(
            event_id=str(message.message_id or body.get("eventId") or "-"),
            type=str(message.type or body.get("type") or "-"),
            reason=_text(headers.get(REASON)) or _text(death.get("reason")) or "unknown",
            error_type=_text(headers.get(ERROR_TYPE)) or "-",
            failed_at=_text(headers.get(FAILED_AT)) or _death_time(death) or "-",
            attempts=_int(headers.get(ATTEMPTS)),
            original_queue=_text(headers.get(ORIGINAL_QUEUE))
            or _text(death.get("queue"))
            or _queue_of(dlq),
        )


def _queue_of(dlq: str) -> str:
    suffix = dead_letter_queue("")
    return dlq.removesuffix(suffix) if dlq.endswith(suffix) else dlq


def _first_death(headers: HeadersType) -> dict[str, Any]:
    # Messages the broker dead-lettered itself (a reject) have only its x-death record.
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def _death_time(death: dict[str, Any]) -> str | None:
    moment = death.get("time")
    if not isinstance(moment, datetime):
        return None
    # AMQP timestamps carry no zone; RabbitMQ's are UTC.
    return format_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
