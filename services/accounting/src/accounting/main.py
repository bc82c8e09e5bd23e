"""The accounting service: a prepaid credit ledger with reservations, usage and statistics."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from accounting.accounts.consumers import UserRegisteredHandler
from accounting.accounts.low_credits import LowCreditsNotifier
from accounting.accounts.service import AccountsService
from accounting.config import AccountingSettings
from accounting.credits import router as credits_router
from accounting.credits.amounts import to_micro
from accounting.credits.service import CreditsService
from accounting.credits.transfers import TransfersService
from accounting.database import ALL_MIGRATIONS
from accounting.exports import router as exports_router
from accounting.exports.service import ExportsService
from accounting.internal import router as internal_router
from accounting.ledger.batcher import AccountBatcher
from accounting.reservations import router as reservations_router
from accounting.reservations.service import HoldSweeper, ReservationsService
from accounting.usage import router as usage_router
from accounting.usage.consumers import UsageRecordedHandler
from accounting.usage.service import UsageService
from bus_events import UsageRecorded, UserRegistered
from event_bus import (
    EventConsumer,
    EventPublisher,
    OutboxRelay,
    consumers_connected,
    consumers_declared,
    start_consumers,
)
from jwt_contract.remote import auth_client, jwks_verifier
from pg_migrations import migrated_pool
from revocation_feed import RevocationFeed, snapshot_from_auth
from service_client import ServiceClient, ServiceTokens
from service_kit import Degradable, is_outage, run_service
from service_kit import create_app as create_service_app


def create_app(settings: AccountingSettings | None = None) -> FastAPI:
    settings = settings or AccountingSettings()
    auth = auth_client(settings)
    verifier = jwks_verifier(settings, auth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Accounting keeps no session state (no session advisory locks, no LISTEN, cursors
        # only in transactions): a released connection needs no reset round trip.
        pool = await migrated_pool(
            settings.database_url, ALL_MIGRATIONS, settings, session_state=False
        )
        prices = settings.price_table()
        publisher = EventPublisher(settings.rabbitmq_url, settings.bus_exchange)
        relay = OutboxRelay(pool, publisher, poll_interval=settings.outbox_poll_seconds)
        low_credits = LowCreditsNotifier(pool, relay, to_micro(settings.low_credits_threshold))
        tokens = ServiceTokens(
            settings.auth_url, settings.service_client_id, settings.service_client_secret
        )
        auth_users = ServiceClient(settings.auth_url, "auth", tokens, max_connections=10)
        provisioning = ServiceClient(
            settings.provisioning_url, "provisioning", tokens, max_connections=4
        )
        accounts = AccountsService(pool, settings, auth_users)
        credits = CreditsService(pool, accounts, prices, settings, relay.wake)
        app.state.accounts = accounts
        app.state.credits = credits
        app.state.transfers = TransfersService(pool, accounts)
        reservations = ReservationsService(
            pool, accounts, credits, prices, low_credits, AccountBatcher(pool), settings
        )
        app.state.reservations = reservations
        app.state.usage = UsageService(pool, accounts, prices, low_credits)
        app.state.exports = ExportsService(pool, accounts, settings, provisioning)
        consumers: list[EventConsumer | RevocationFeed] = [
            RevocationFeed(
                verifier.revocations,
                settings.rabbitmq_url,
                snapshot_from_auth(auth_users),
                exchange=settings.bus_exchange,
            ),
            EventConsumer(
                settings.rabbitmq_url,
                settings.user_registered_queue,
                [UserRegistered.routing_key],
                UserRegisteredHandler(pool, accounts),
                exchange=settings.bus_exchange,
                queue_type=settings.rabbitmq_queue_type,
                transient=is_outage,
            ),
            EventConsumer(
                settings.rabbitmq_url,
                settings.usage_recorded_queue,
                [UsageRecorded.routing_key],
                UsageRecordedHandler(pool, accounts, prices, low_credits, reservations.memory),
                exchange=settings.bus_exchange,
                queue_type=settings.rabbitmq_queue_type,
                # While PostgreSQL is down an event waits, unacked, and is applied once it is
                # back: never dead-lettered for it (which left holds to expire uncharged).
                transient=is_outage,
            ),
        ]
        sweeper = HoldSweeper(pool, settings.hold_sweep_interval_seconds)
        app.state.hold_sweeper = sweeper
        starting = asyncio.create_task(start_consumers(consumers), name="start-consumers")
        app.state.readiness_checks.update(
            postgres=lambda: pool.fetchval("SELECT 1"),
            # Events wait in the outbox and, once declared, in the queues while RabbitMQ is down.
            rabbitmq=Degradable(
                consumers_connected(consumers), covered=consumers_declared(consumers)
            ),
        )
        relay.start()
        sweeper.start()
        try:
            yield
        finally:
            starting.cancel()
            await sweeper.stop()
            for consumer in consumers:
                await consumer.stop()
            await relay.stop()
            await publisher.close()
            await auth_users.aclose()
            await provisioning.aclose()
            await tokens.aclose()
            await auth.aclose()
            await pool.close()

    app = create_service_app(
        settings,
        title="Accounting service",
        description="A prepaid credit ledger in integer micro-credits: allocations with "
        "expiry, reservations that never overspend, usage events charged exactly once.",
        routers=[
            credits_router.router,
            reservations_router.router,
            usage_router.router,
            exports_router.router,
            internal_router.router,
        ],
        lifespan=lifespan,
        outage_responses=True,
    )
    app.state.token_verifier = verifier
    return app


def run() -> None:
    run_service(AccountingSettings, create_app)
