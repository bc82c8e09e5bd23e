"""``audit.recorded``: an administrative action, for provisioning's audit log.

CONTRACT.md names it; no service publishes it yet (provisioning writes its own actions to its
log in the transaction that makes them).
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
