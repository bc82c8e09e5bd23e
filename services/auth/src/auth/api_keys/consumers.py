"""``organization.deleted`` from provisioning: the organization's team keys are revoked, each
announced as ``api_key.revoked`` (the services refuse the organization's tokens already, from
the event itself)."""

import logging
from dataclasses import dataclass

import asyncpg

from auth.api_keys import repository
from auth.revocations import repository as revocations
from auth.revocations.service import revoke_key
from bus_events import OrganizationDeleted, body_of
from event_bus import Event, OutboxRelay, claim_event

log = logging.getLogger(__name__)

CONSUMER = "auth.organization-deleted"


@dataclass
class OrganizationDeletedHandler:
    pool: asyncpg.Pool
    relay: OutboxRelay

    async def __call__(self, event: Event) -> None:
        organization_id = body_of(event, OrganizationDeleted).organization_id
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                return
            await revocations.record_organization(conn, organization_id)
            keys = await repository.revoke_for_organization(conn, organization_id)
            for revoked in keys:
                await revoke_key(conn, revoked.key, revoked.revoked_at)
        if keys:
            self.relay.wake()
        log.info(
            "organization's keys revoked",
            extra={"organizationId": organization_id, "keys": len(keys)},
        )
