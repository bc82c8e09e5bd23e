"""``audit.recorded``: an administrative action, for provisioning's audit log.

auth publishes it for role changes, disables and enables, 2FA resets and personal keys, and
accounting for allocations, each through its outbox in the transaction of the action;
provisioning writes it to its audit log once per eventId (its own actions it writes directly,
in the transaction that makes them).
"""

from typing import ClassVar

from pydantic import JsonValue

from bus_events.bodies import BusEvent
from bus_events.fields import Identifier, Name
from service_kit import Text


class AuditRecorded(BusEvent):
    routing_key: ClassVar[str] = "audit.recorded"
    version: ClassVar[int] = 1

    actor_id: Identifier
    action: Name
    target_type: Name
    target_id: Identifier
    organization_id: Identifier | None = None
    before: JsonValue = None
    after: JsonValue = None
    request_id: Text
