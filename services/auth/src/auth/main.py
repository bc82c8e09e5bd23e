"""The auth service: users, roles, login, token refresh with rotation, JWKS."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import redis.asyncio as redis
from fastapi import FastAPI

from auth.api_keys import router as api_keys_router
from auth.api_keys.consumers import OrganizationDeletedHandler
from auth.api_keys.personal import PersonalKeysService
from auth.api_keys.service import ApiKeysService
from auth.config import AuthSettings, service_clients
from auth.database import ALL_MIGRATIONS
from auth.idempotent import Replays
from auth.keys import router as keys_router
from auth.keys.signing import build_signer, build_verifier, load_signing_key, public_keys
from auth.revocations import router as revocations_router
from auth.revocations.service import RevocationsService
from auth.service_clients import router as service_clients_router
from auth.service_clients.service import ServiceClientsService
from auth.sessions import router as sessions_router
from auth.sessions.service import SessionsService
from auth.throttling.code_throttle import CodeThrottle
from auth.throttling.login_throttle import LoginThrottle
from auth.two_factor import router as two_factor_router
from auth.two_factor.secret_box import SecretBox
from auth.two_factor.service import TwoFactorService
from auth.users import router as users_router
from auth.users.demo import seed_demo_users
from auth.users.passwords import PasswordHasher
from auth.users.service import UsersService
from bus_events import OrganizationDeleted
from event_bus import (
    EventConsumer,
    EventPublisher,
    OutboxRelay,
    consumers_connected,
    consumers_declared,
    start_consumers,
)
from event_bus.startup import Startable
from pg_migrations import migrated_pool
from revocation_feed import RevocationFeed
from service_kit import Degradable, is_outage, run_service
from service_kit import create_app as create_service_app


class _Consumer(Startable, Protocol):
    async def stop(self) -> None: ...


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    key = load_signing_key(settings)
    keys = public_keys(key)
    verifier = build_verifier(settings, keys)
    secret_box = SecretBox(*settings.mfa_keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await migrated_pool(settings.database_url, ALL_MIGRATIONS, settings)
        cache = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        publisher = EventPublisher(settings.rabbitmq_url, settings.bus_exchange)
        relay = OutboxRelay(pool, publisher)
        hasher = PasswordHasher.from_settings(settings)
        signer = build_signer(settings, key)
        throttle = LoginThrottle(
            cache,
            max_failures=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window=settings.login_failure_window_seconds,
        )
        app.state.users = UsersService(pool, hasher, signer, relay, settings)
        app.state.sessions = SessionsService(pool, hasher, signer, verifier, throttle, settings)
        code_throttle = CodeThrottle(
            cache,
            max_failures=settings.login_max_failures,
            max_failures_per_user=settings.mfa_max_failures_per_user,
            window=settings.login_failure_window_seconds,
        )
        app.state.two_factor = TwoFactorService(
            pool, secret_box, hasher, signer, code_throttle, relay, settings
        )
        app.state.password_hasher = hasher
        app.state.replays = Replays.of(secret_box, settings.mfa_keys[0])
        app.state.api_keys = ApiKeysService(pool, signer, settings, relay, verifier.revocations)
        app.state.personal_keys = PersonalKeysService(pool, relay, settings.max_personal_keys)
        revoked = RevocationsService(pool, settings.revocation_retention_seconds)
        app.state.revocations = revoked
        consumers: list[_Consumer] = [
            # Auth's own routes (/me, ...) refuse revoked tokens too; its list is its database.
            RevocationFeed(
                verifier.revocations,
                settings.rabbitmq_url,
                revoked.snapshot,
                exchange=settings.bus_exchange,
            ),
            EventConsumer(
                settings.rabbitmq_url,
                settings.organization_deleted_queue,
                [OrganizationDeleted.routing_key],
                OrganizationDeletedHandler(pool, relay),
                exchange=settings.bus_exchange,
                queue_type=settings.rabbitmq_queue_type,
                transient=is_outage,
            ),
        ]
        starting = asyncio.create_task(start_consumers(consumers), name="start-consumers")
        app.state.service_clients = ServiceClientsService(
            service_clients(settings), signer, settings.service_token_ttl_seconds
        )
        app.state.outbox_relay = relay
        app.state.readiness_checks.update(
            postgres=lambda: pool.fetchval("SELECT 1"),
            redis=cache.ping,
            # Events wait in the outbox and, once declared, in the queues while RabbitMQ is down.
            rabbitmq=Degradable(
                _bus_connected(publisher, consumers), covered=consumers_declared(consumers)
            ),
        )
        relay.start()
        if settings.seed_demo_users:
            await seed_demo_users(pool, hasher)
            relay.wake()
        try:
            yield
        finally:
            starting.cancel()
            for consumer in consumers:
                await consumer.stop()
            await relay.stop()
            await publisher.close()
            await cache.aclose()
            await pool.close()

    app = create_service_app(
        settings,
        title="Auth service",
        description="Users, roles, login (with two-factor authentication), token refresh with "
        "rotation, personal API keys, and the JWKS every service verifies tokens with.",
        routers=[
            users_router.router,
            users_router.internal,
            sessions_router.router,
            two_factor_router.router,
            api_keys_router.personal,
            service_clients_router.router,
            keys_router.router,
            api_keys_router.exchanges,
            revocations_router.internal,
            api_keys_router.internal,
        ],
        lifespan=lifespan,
        outage_responses=True,
    )
    app.state.token_verifier = verifier
    app.state.public_keys = keys
    return app


def _bus_connected(
    publisher: EventPublisher, consumers: Sequence[Startable]
) -> Callable[[], Awaitable[None]]:
    """The broker answers the publisher, and every consumer is connected."""
    consumers_up = consumers_connected(consumers)

    async def check() -> None:
        if not await publisher.ping():
            raise ConnectionError("publisher not connected")
        await consumers_up()

    return check


def run() -> None:
    run_service(AuthSettings, create_app)
