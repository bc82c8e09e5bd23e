"""An event body as a model, and its way onto the bus (``event_of``) and off it (``body_of``).

The envelope (``eventId``, ``type``, ``occurredAt``, ``version``) stays ``event_bus``'s: a
body model only adds what it knows of its own fields, its routing key and its version.

Versions. ``version`` is the version of the body a producer writes. A newer version of a body
only adds fields, so a consumer reads it as the superset it is: the fields it does not know are
ignored, the ones it knows are validated as always (consumers never looked at the version, and
still do not refuse an event for it). A change an older consumer could not read that way (a
field removed, renamed or retyped) takes a new routing key, not a new version. When a model's
version is raised, the fields it adds get defaults, so the older bodies still waiting in
outboxes and queues read too.
"""

from typing import Any, ClassVar, TypeVar

from pydantic import ConfigDict, ValidationError

from event_bus import Event, PermanentEventError, new_event
from service_kit import CamelModel

Body = TypeVar("Body", bound="BusEvent")


class BusEvent(CamelModel):
    """The body of one kind of event: camelCase on the wire, Python names in code.

    Unknown fields are ignored (a newer version's additions); on the bus only the camelCase
    names are read. ``None`` stands for a field that is absent from the JSON.
    """

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )

    routing_key: ClassVar[str]
    version: ClassVar[int] = 1

    def wire_body(self) -> dict[str, Any]:
        """The body's JSON fields as they travel: camelCase, absent when ``None``."""
        dumped = self.model_dump(mode="json", by_alias=True)
        return {name: value for name, value in dumped.items() if value is not None}


def event_of(body: BusEvent) -> dict[str, Any]:
    """A new event carrying ``body``: a fresh ``eventId``, ``occurredAt`` now, the body's
    routing key as ``type`` and its version (``event_bus.new_event`` builds the envelope)."""
    return new_event(body.routing_key, body.wire_body(), version=body.version)


def body_of(event: Event, model: type[Body]) -> Body:
    """``event``'s body read as ``model``, whatever its version (see the module's docstring).

    Raises ``PermanentEventError``, which the consumer dead-letters at once with its text as
    the reason, when the event is of another type or its body does not fit the model.
    """
    if event.type != model.routing_key:
        raise PermanentEventError(f"expected a {model.routing_key} event, got {event.type}")
    try:
        return model.model_validate(event.body, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid {model.routing_key} body: {_problems(exc)}") from exc


def _problems(error: ValidationError) -> str:
    """``inputTokens: Input should be greater than or equal to 0; userId: Field required``"""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors()
    )
