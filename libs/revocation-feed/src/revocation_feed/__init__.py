"""Keeps a service's ``Revocations`` current: revocation within a second, no round trip.

Every replica subscribes to ``user.updated``, ``api_key.revoked`` and ``organization.deleted``
on a queue of its own (``event_bus.BroadcastSubscriber``), and after each (re)connection reads
auth's list of the revocations still relevant (``GET /internal/revocations``, scope
``revocations:read``), so nothing announced while it was away is missed. The events are read
as their ``bus_events`` models, failing closed (``events``).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from background_loops import BackgroundLoop
from event_bus import BroadcastSubscriber, Event
from jwt_contract import Revocations
from revocation_feed.events import REVOCATION_EVENTS, apply_event
from service_client import ServiceClient

__all__ = ["REVOCATION_EVENTS", "SNAPSHOT_PATH", "RevocationFeed", "snapshot_from_auth"]

log = logging.getLogger(__name__)

SNAPSHOT_PATH = "/internal/revocations"
FORGET_EVERY_SECONDS = 600


def snapshot_from_auth(auth: ServiceClient) -> Callable[[], Awaitable[dict[str, Any]]]:
    """Auth's list of recent revocations, read as this service."""

    async def read() -> dict[str, Any]:
        reply = await auth.request("GET", SNAPSHOT_PATH)
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            raise RuntimeError(f"auth answered {reply.status} for the revocation list")
        return body

    return read


class RevocationFeed:
    def __init__(
        self,
        revocations: Revocations,
        rabbitmq_url: str,
        snapshot: Callable[[], Awaitable[dict[str, Any]]],
        *,
        exchange: str,
    ) -> None:
        self.revocations = revocations
        self._snapshot = snapshot
        self.subscriber = BroadcastSubscriber(
            rabbitmq_url,
            REVOCATION_EVENTS,
            self._heard,
            on_connected=self.catch_up,
            exchange=exchange,
        )
        self._forgetting = BackgroundLoop(
            "forget-revocations", self._forget_old, interval=FORGET_EVERY_SECONDS
        )

    @property
    def is_connected(self) -> bool:
        return self.subscriber.is_connected

    async def start(self) -> None:
        await self.subscriber.start()
        self._forgetting.start()

    async def stop(self) -> None:
        await self._forgetting.stop()
        await self.subscriber.stop()

    async def catch_up(self) -> None:
        """Read auth's list; retried until it answers (tokens heard of meanwhile are refused
        from the events already, the list only adds what was missed)."""
        delay = 0.5
        while True:
            try:
                self.revocations.merge(await self._snapshot())
                log.info("revocations caught up", extra={"entries": len(self.revocations)})
                return
            except Exception as exc:
                log.warning("revocation list unavailable", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def _heard(self, event: Event) -> None:
        if apply_event(self.revocations, event):
            log.info("revocation heard", extra={"eventType": event.type})

    async def _forget_old(self) -> None:
        self.revocations.forget_old()
