"""RabbitMQ bus client for the platform's services.

Events are flat JSON objects (``eventId``, ``type``, ``occurredAt``, ``version`` and the body's
fields) on the durable topic exchange ``platform.events``, routed by ``type``.

* ``EventPublisher`` publishes persistent messages and waits for the broker's confirm.
* ``EventConsumer`` acks after the handler returns and dead-letters what cannot be processed
  to ``<queue>.dlq``.
* ``enqueue`` + ``OutboxRelay`` publish events written in a PostgreSQL transaction, and
  ``claim_event`` lets a consumer apply each event once; their tables are ``MIGRATIONS``.
"""

from event_bus.broadcast import BroadcastSubscriber
from event_bus.consumer import EventConsumer, EventHandler
from event_bus.envelope import Event, new_event
from event_bus.errors import (
    BusUnavailable,
    EventBusError,
    MalformedEvent,
    PermanentEventError,
    PublishFailed,
)
from event_bus.inbox import claim_event
from event_bus.outbox import OutboxRelay, enqueue
from event_bus.publisher import EventPublisher
from event_bus.schema import MIGRATIONS, MIGRATIONS_DIR
from event_bus.startup import consumers_connected, start_consumers
from event_bus.topology import DEFAULT_EXCHANGE, dead_letter_exchange, dead_letter_queue

__all__ = [
    "DEFAULT_EXCHANGE",
    "MIGRATIONS",
    "MIGRATIONS_DIR",
    "BroadcastSubscriber",
    "BusUnavailable",
    "Event",
    "EventBusError",
    "EventConsumer",
    "EventHandler",
    "EventPublisher",
    "MalformedEvent",
    "OutboxRelay",
    "PermanentEventError",
    "PublishFailed",
    "claim_event",
    "consumers_connected",
    "dead_letter_exchange",
    "dead_letter_queue",
    "enqueue",
    "new_event",
    "start_consumers",
]
