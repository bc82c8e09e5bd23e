"""The provisioning service: organizations, memberships, teams with their own credit accounts,
model groups, versioned plans, team API keys, onboarding grants and the audit log."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bus_events import AuditRecorded, UserRegistered
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
from provisioning.audit import router as audit_router
from provisioning.audit.consumer import AuditRecordedHandler
from provisioning.byok import internal as byok_internal
from provisioning.byok import router as byok_router
from provisioning.byok.service import byok_service
from provisioning.clients.accounting import AccountingClient
from provisioning.clients.auth import AuthClient
from provisioning.clients.catalog import CatalogClient
from provisioning.config import ProvisioningSettings
from provisioning.database import ALL_MIGRATIONS
from provisioning.internal import router as internal_router
from provisioning.memberships import router as memberships_router
from provisioning.memberships.service import MembershipsService
from provisioning.model_groups import router as model_groups_router
from provisioning.model_groups.service import ModelGroupsService
from provisioning.onboarding.consumer import UserRegisteredHandler
from provisioning.onboarding.grants import GrantWorker
from provisioning.organizations import router as organizations_router
from provisioning.organizations.service import OrganizationsService
from provisioning.plans import assignments as plan_assignments
from provisioning.plans import internal as plans_internal
from provisioning.plans import router as plans_router
from provisioning.plans.service import PlansService
from provisioning.team_keys import router as team_keys_router
from provisioning.team_keys.service import TeamKeysService
from provisioning.teams import router as teams_router
from provisioning.teams.service import TeamsService
from revocation_feed import RevocationFeed, snapshot_from_auth
from service_client import ServiceClient, ServiceTokens
from service_kit import Degradable, is_outage, run_service
from service_kit import create_app as create_service_app


def create_app(settings: ProvisioningSettings | None = None) -> FastAPI:
    settings = settings or ProvisioningSettings()
    jwks = auth_client(settings)
    verifier = jwks_verifier(settings, jwks)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await migrated_pool(settings.database_url, ALL_MIGRATIONS, settings)
        tokens = ServiceTokens(
            settings.auth_url, settings.service_client_id, settings.service_client_secret
        )
        timeout = settings.upstream_timeout_seconds
        auth = AuthClient(settings.auth_url, tokens, timeout=timeout)
        accounting = AccountingClient(settings.accounting_url, tokens, timeout=timeout)
        catalog = CatalogClient(settings.chat_url, None, timeout=timeout)
        plans = PlansService(pool)
        await plans.ensure_default(
            settings.default_plan_name,
            settings.default_plan_monthly_credits,
            settings.default_plan_requests_per_minute,
        )
        grants = GrantWorker(
            pool,
            accounting,
            poll_seconds=settings.grant_poll_seconds,
            renewal_interval_seconds=settings.grant_renewal_interval_seconds,
        )
        app.state.pool = pool
        publisher = EventPublisher(settings.rabbitmq_url, settings.bus_exchange)
        relay = OutboxRelay(pool, publisher)
        app.state.organizations = OrganizationsService(pool, relay)
        app.state.memberships = MembershipsService(pool, auth)
        app.state.model_groups = ModelGroupsService(pool, catalog)
        app.state.teams = TeamsService(pool, accounting)
        app.state.team_keys = TeamKeysService(pool, auth)
        app.state.byok = byok = byok_service(pool, settings, production=settings.is_production)
        app.state.plans = plans
        app.state.auth = auth
        app.state.grants = grants
        auth_calls = ServiceClient(settings.auth_url, "auth", tokens, max_connections=4)
        consumers: list[EventConsumer | RevocationFeed] = [
            RevocationFeed(
                verifier.revocations,
                settings.rabbitmq_url,
                snapshot_from_auth(auth_calls),
                exchange=settings.bus_exchange,
            ),
            EventConsumer(
                settings.rabbitmq_url,
                settings.user_registered_queue,
                [UserRegistered.routing_key],
                UserRegisteredHandler(pool, grants),
                exchange=settings.bus_exchange,
                queue_type=settings.rabbitmq_queue_type,
                transient=is_outage,
            ),
            EventConsumer(
                settings.rabbitmq_url,
                settings.audit_recorded_queue,
                [AuditRecorded.routing_key],
                AuditRecordedHandler(pool),
                exchange=settings.bus_exchange,
                queue_type=settings.rabbitmq_queue_type,
                transient=is_outage,
            ),
        ]
        starting = asyncio.create_task(start_consumers(consumers), name="start-consumers")
        app.state.readiness_checks.update(
            postgres=lambda: pool.fetchval("SELECT 1"),
            # Events wait in the outbox and, once declared, in the queues while RabbitMQ is down.
            rabbitmq=Degradable(
                consumers_connected(consumers), covered=consumers_declared(consumers)
            ),
        )
        grants.start()
        relay.start()
        try:
            yield
        finally:
            starting.cancel()
            for consumer in consumers:
                await consumer.stop()
            await grants.stop()
            await relay.stop()
            await publisher.close()
            await auth_calls.aclose()
            await byok.validator.aclose()
            for client in (auth, accounting, catalog, tokens, jwks):
                await client.aclose()
            await pool.close()

    app = create_service_app(
        settings,
        title="Provisioning service",
        description="Tenants and what they may use: organizations and their members, teams "
        "with their own credit accounts and model groups, versioned plans granted to every "
        "new user, team API keys, and an audit log of every administrative action.",
        routers=[
            organizations_router.router,
            memberships_router.router,
            model_groups_router.router,
            teams_router.router,
            team_keys_router.router,
            plans_router.router,
            plan_assignments.router,
            audit_router.router,
            internal_router.router,
            byok_router.router,
            byok_internal.router,
            plans_internal.router,
        ],
        lifespan=lifespan,
        outage_responses=True,
    )
    app.state.token_verifier = verifier
    return app


def run() -> None:
    run_service(ProvisioningSettings, create_app)
