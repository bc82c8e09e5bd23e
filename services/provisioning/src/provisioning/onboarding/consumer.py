"""`user.registered` from auth: the new user is put on the default plan and its monthly grant
is written as a pending plan grant, all in one transaction with the event's inbox claim, so a
redelivered event grants nothing twice. The grant worker then delivers it to accounting."""

import logging
from dataclasses import dataclass

import asyncpg

from bus_events import UserRegistered, body_of
from event_bus import Event, PermanentEventError, claim_event
from provisioning import metrics
from provisioning.audit.service import SYSTEM, record
from provisioning.database import Connection
from provisioning.onboarding import repository
from provisioning.onboarding.grants import GrantWorker
from provisioning.plans import repository as plans

log = logging.getLogger(__name__)

CONSUMER = "provisioning.user-registered"


@dataclass
class UserRegisteredHandler:
    pool: asyncpg.Pool
    grants: GrantWorker

    async def __call__(self, event: Event) -> None:
        try:
            user = body_of(event, UserRegistered)
        except PermanentEventError:
            metrics.EVENTS_PROCESSED.labels(event.type, "failed").inc()
            raise
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, event.event_id, CONSUMER):
                metrics.EVENTS_PROCESSED.labels(event.type, "duplicate").inc()
                return
            granted = await self._onboard(conn, user.user_id, user.username)
        metrics.EVENTS_PROCESSED.labels(event.type, "applied").inc()
        if granted:
            self.grants.wake()

    async def _onboard(self, conn: Connection, user_id: str, username: str) -> bool:
        plan = await plans.default_plan(conn)
        if plan is None:
            log.warning("no default plan; a new user got none", extra={"userId": user_id})
            return False
        if not await repository.assign(
            conn, user_id=user_id, username=username, plan_id=plan.id, source="onboarding"
        ):
            return False
        version = await plans.version_in_force(conn, plan.id)
        key = None
        if version is not None and version.monthly_micro > 0:
            key = await repository.add_grant(
                conn,
                user_id=user_id,
                username=username,
                plan_id=plan.id,
                plan_version=version.version,
                amount_micro=version.monthly_micro,
            )
        await record(
            conn,
            SYSTEM,
            "plan.assigned",
            target_type="user",
            target_id=user_id,
            after={
                "plan": plan.name,
                "planId": plan.id,
                "version": version.version if version else None,
                "grant": key,
            },
        )
        log.info("user onboarded", extra={"userId": user_id, "plan": plan.name, "grant": key})
        return key is not None
