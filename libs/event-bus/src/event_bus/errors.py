"""Exceptions raised by the bus client, and the one handlers raise to refuse an event."""


class EventBusError(Exception):
    """Base class of this library's errors."""


class MalformedEvent(EventBusError, ValueError):
    """A message that is not a valid event envelope; it can never be processed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PublishFailed(EventBusError):
    """The broker did not confirm a message: nacked, timed out or the connection was lost.

    The message may or may not have reached the broker; publishing it again is safe because
    consumers ignore an ``eventId`` they have already applied.
    """


class BusUnavailable(EventBusError, ConnectionError):
    """RabbitMQ could not be reached (or did not answer in time); try again later."""


class PermanentEventError(EventBusError):
    """Raised by a handler for an event that will never succeed: it is dead-lettered at once."""


class TransientEventError(EventBusError):
    """Raised by a handler for an event it cannot apply yet but will later (a store it needs is
    down): the consumer retries it with backoff for as long as it takes, never dead-letters it.

    A consumer can also be told which exceptions are transient (``EventConsumer(transient=)``),
    so handlers need not translate their database's connection errors.
    """
