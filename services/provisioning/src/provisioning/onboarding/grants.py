"""Delivers pending plan grants to accounting until it accepts each one.

A grant row is the outbox record of a decision already committed (a user joined a plan, a
new month began). Accounting allocates once per idempotency key, so a grant sent twice (a
crash between accounting's answer and marking the row) is given once. Failures back off
exponentially, up to five minutes, and are retried for as long as it takes: nothing is lost.
"""

import logging
import math
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from background_loops import BackgroundLoop
from provisioning import metrics
from provisioning.clients.accounting import AccountingClient
from provisioning.credits import from_micro, wire
from provisioning.database import Connection
from provisioning.onboarding import repository
from provisioning.onboarding.repository import PendingGrant
from service_kit import ApiError, log_failure

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
BATCH = 20


class GrantWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        accounting: AccountingClient,
        *,
        poll_seconds: float,
        renewal_interval_seconds: float,
    ) -> None:
        self.pool = pool
        self.accounting = accounting
        self.poll_seconds = poll_seconds
        self.renewal_interval_seconds = renewal_interval_seconds
        self._next_renewal = -math.inf  # time.monotonic(): the first round renews
        # Whatever a failed round met (a database outage, or a bug), the next may succeed: a
        # worker that died would deliver no grant again until a restart.
        self._loop = BackgroundLoop(
            "plan-grants",
            self._round,
            interval=poll_seconds,
            on_failure=lambda failure: log_failure(log, "plan grant round", failure.error),
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def wake(self) -> None:
        self._loop.wake()

    async def renew(self) -> int:
        """Write this month's grant for every user on a plan who has none yet."""
        async with self.pool.acquire() as conn:
            added = await repository.add_missing_renewals(conn)
        if added:
            log.info("monthly plan grants added", extra={"grants": added})
        return added

    async def deliver_due(self) -> int:
        """Send every grant that is due; the number accepted."""
        delivered = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                due = await repository.due_grants(conn, BATCH)
                for grant in due:
                    delivered += await self._deliver(conn, grant)
                metrics.PENDING_GRANTS.set(await repository.pending_count(conn))
            if len(due) < BATCH:
                return delivered

    async def _deliver(self, conn: Connection, grant: PendingGrant) -> int:
        key = grant.idempotency_key
        try:
            answer = await self.accounting.grant(
                owner_type="user",
                owner_id=grant.user_id,
                username=grant.username,
                credits=wire(from_micro(grant.amount_micro)),
                idempotency_key=key,
                granted_by="provisioning",
                notes=f"plan grant {grant.period} (plan version {grant.plan_version})",
            )
        except ApiError as exc:
            backoff = min(2**grant.attempts, MAX_BACKOFF_SECONDS)
            await repository.mark_failed(
                conn, key, exc.message, datetime.now(UTC) + timedelta(seconds=backoff)
            )
            metrics.PLAN_GRANTS.labels("failed").inc()
            log.warning(
                "plan grant not delivered; will retry",
                extra={"grant": key, "attempts": grant.attempts + 1, "retryInSeconds": backoff},
            )
            return 0
        await repository.mark_granted(conn, key)
        metrics.PLAN_GRANTS.labels("granted" if answer.applied else "duplicate").inc()
        log.info("plan grant delivered", extra={"grant": key, "applied": answer.applied})
        return 1

    async def _round(self) -> None:
        """The loop's step: this month's grants when they are due, then every due delivery."""
        if time.monotonic() >= self._next_renewal:
            await self.renew()
            self._next_renewal = time.monotonic() + self.renewal_interval_seconds
        await self.deliver_due()
