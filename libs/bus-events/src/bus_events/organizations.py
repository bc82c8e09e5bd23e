"""``organization.deleted``: auth revokes the organization's team keys, every service refuses
tokens that carry its ``organizationId``."""

from typing import ClassVar

from bus_events.bodies import BusEvent
from bus_events.fields import Identifier


class OrganizationDeleted(BusEvent):
    routing_key: ClassVar[str] = "organization.deleted"
    version: ClassVar[int] = 1

    organization_id: Identifier
