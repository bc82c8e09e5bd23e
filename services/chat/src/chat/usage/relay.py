"""Publishes the usage records stored with answers to RabbitMQ: ``event_bus``'s relay over
the MongoDB outbox (``repository.UsageOutbox``)."""

import logging
import uuid

from chat.sessions import repository
from event_bus import Relay
from event_bus.relay import Publisher

log = logging.getLogger(__name__)

BATCH = 100  # records published together


class UsageRelay(Relay):
    """Delivery is at least once: a crash between the broker's confirm and marking the
    record published sends it again, and accounting ignores an ``eventId`` it has applied.
    Relays of several replicas (or workers) claim what they publish, ``claimant`` naming this
    one (the replica id), so each record normally goes once.
    Usage records need no order, so a batch is published all at once.

    Outages of MongoDB or the broker are waited out (retried after twice the poll interval,
    doubling up to ``max_backoff``); no failure ends the relay."""

    def __init__(
        self,
        db: repository.Database,
        publisher: Publisher,
        *,
        poll_interval: float = 1.0,
        max_backoff: float = 10.0,
        claimant: str | None = None,
        lease_seconds: float = repository.CLAIM_SECONDS,
    ) -> None:
        super().__init__(
            repository.UsageOutbox(db, claimant or str(uuid.uuid4()), lease_seconds),
            publisher,
            name="usage-relay",
            ordered=False,
            batch_size=BATCH,
            poll_interval=poll_interval,
            initial_backoff=2 * poll_interval,
            max_backoff=max_backoff,
            stop_timeout=0,  # stopped at once; what it had not marked is published again
            logger=log,
        )

    async def run_once(self) -> int:
        """Publish a batch of what is pending, oldest first, all at once (each waits for its
        own confirm), then mark the confirmed ones in one write. Raises the first failure
        after marking what did get through."""
        await self.publisher.connect()
        result = await self.publish_batch()
        if result.error is not None:
            raise result.error
        return result.published
