"""The names the services import from event_bus: a change here is a change to every
service, so it is made on purpose (and this list with it)."""

import event_bus

SURFACE = [
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
    "PostgresOutbox",
    "Relay",
    "PermanentEventError",
    "PublishFailed",
    "QueueType",
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


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(event_bus.__all__) == sorted(SURFACE)
    for name in event_bus.__all__:
        assert getattr(event_bus, name) is not None, name
