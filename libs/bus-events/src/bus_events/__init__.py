"""Every event on the platform's bus, as the pydantic model of its body (CONTRACT.md "Bus
events"), which the producer and the consumers both use.

A producer builds the body and hands ``event_of(body)`` to ``event_bus.enqueue`` (or a
publisher); a consumer reads ``body_of(event, Model)``, which refuses a body that does not fit
with ``event_bus.PermanentEventError`` (dead-lettered at once). Each model carries its routing
key and version (``Model.routing_key``, ``Model.version``; ``bodies.py`` says how versions are
read); on the wire the fields are camelCase, as they always were.
"""

from collections.abc import Mapping

from bus_events.api_keys import ApiKeyRevoked
from bus_events.audit import AuditRecorded
from bus_events.bodies import BusEvent, body_of, event_of
from bus_events.organizations import OrganizationDeleted
from bus_events.usage import CreditsLow, UsageRecorded
from bus_events.users import UserRegistered, UserUpdated

# Every event there is, by routing key.
EVENT_MODELS: Mapping[str, type[BusEvent]] = {
    model.routing_key: model
    for model in (
        UserRegistered,
        UserUpdated,
        UsageRecorded,
        CreditsLow,
        ApiKeyRevoked,
        OrganizationDeleted,
        AuditRecorded,
    )
}

__all__ = [
    "EVENT_MODELS",
    "ApiKeyRevoked",
    "AuditRecorded",
    "BusEvent",
    "CreditsLow",
    "OrganizationDeleted",
    "UsageRecorded",
    "UserRegistered",
    "UserUpdated",
    "body_of",
    "event_of",
]
