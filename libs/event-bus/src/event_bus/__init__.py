"""RabbitMQ bus client for the platform's services.

Events are flat JSON objects (``eventId``, ``type``, ``occurredAt``, ``version`` and the body's
fields) on the durable topic exchange ``platform.events``, routed by ``type``.

* ``EventPublisher`` publishes persistent messages and waits for the broker's confirm.
* ``EventConsumer`` acks after the handler returns, retries a failing handler with backoff
  (for as long as the failure is transient, a bounded number of times otherwise) and
  dead-letters what cannot be processed to ``<queue>.dlq`` with the reason in its headers;
  ``bus-dlq`` (``dlq_cli.py``) lists and replays a DLQ.
* ``enqueue`` + ``OutboxRelay`` publish events written in a PostgreSQL transaction, and
  ``claim_event`` lets a consumer apply each event once; their tables are ``MIGRATIONS``.
"""

from event_bus.broadcast import BroadcastSubscriber
from event_bus.consumer import EventConsumer, EventHandler, TransientErrors
from event_bus.dead_letters import DeadLetter
from event_bus.dlq import list_dead_letters, replay_dead_letters
from event_bus.envelope import Event, encode_event, new_event
from event_bus.errors import (
    BusUnavailable,
    EventBusError,
    MalformedEvent,
    PermanentEventError,
    PublishFailed,
    TransientEventError,
)
from event_bus.inbox import claim_event
from event_bus.outbox import OutboxRelay, PostgresOutbox, enqueue
from event_bus.publisher import EventPublisher
from event_bus.relay import Outbox, OutboxBatch, Relay
from event_bus.retry import RetryPolicy
from event_bus.schema import MIGRATIONS, MIGRATIONS_DIR
from event_bus.startup import (
    Startable,
    consumers_connected,
    consumers_declared,
    start_consumers,
)
from event_bus.topology import DEFAULT_EXCHANGE, QueueType, dead_letter_exchange, dead_letter_queue

__all__ = [
    "DEFAULT_EXCHANGE",
    "MIGRATIONS",
    "MIGRATIONS_DIR",
    "BroadcastSubscriber",
    "BusUnavailable",
    "DeadLetter",
    "Event",
    "EventBusError",
    "EventConsumer",
    "EventHandler",
    "EventPublisher",
    "MalformedEvent",
    "Outbox",
    "OutboxBatch",
    "OutboxRelay",
    "PermanentEventError",
    "PostgresOutbox",
    "PublishFailed",
    "QueueType",
    "Relay",
    "RetryPolicy",
    "Startable",
    "TransientErrors",
    "TransientEventError",
    "claim_event",
    "consumers_connected",
    "consumers_declared",
    "dead_letter_exchange",
    "dead_letter_queue",
    "encode_event",
    "enqueue",
    "list_dead_letters",
    "new_event",
    "replay_dead_letters",
    "start_consumers",
]
