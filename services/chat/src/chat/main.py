"""The chat service: conversations, answers streamed over SSE, live supervision, metering."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as redis
from fastapi import FastAPI
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from chat import workers as chat_workers
from chat.accounting.client import AccountingClient
from chat.byok.client import ByokClient
from chat.byok.routing import ByokRouting
from chat.catalog import router as catalog_router
from chat.catalog.catalog import ModelCatalog
from chat.config import ChatSettings
from chat.fanout import FanOut
from chat.idempotency import repository as idempotency_repository
from chat.idempotency.keys import KeyStore
from chat.limits.request_limit import RequestLimiter
from chat.limits.token_limit import KeyTokenLimiter
from chat.model_health import router as model_health_router
from chat.model_health.anthropic_probe import AnthropicProbe
from chat.model_health.bedrock_probe import BedrockProbe
from chat.model_health.monitor import ModelHealthMonitor, ProviderProbe
from chat.model_health.openai_probe import OpenAIProbe
from chat.model_health.store import HealthStore, scope_of
from chat.observation import router as observation_router
from chat.observation.hub import ObserverHub
from chat.openai_api import router as openai_router
from chat.plans.client import PlanClient
from chat.plans.lookup import PlanLookup
from chat.providers.anthropic import AnthropicProvider
from chat.providers.bedrock import BedrockProvider
from chat.providers.openai_compatible import OpenAICompatibleProvider
from chat.providers.registry import Providers
from chat.sessions import repository
from chat.sessions import router as sessions_router
from chat.sessions.service import SessionsService
from chat.streaming import router as streaming_router
from chat.streaming.recovery import Recovery
from chat.streaming.recovery.heartbeat import ReplicaHeartbeat
from chat.streaming.resources import Dependencies
from chat.streaming.resume_log.batcher import LogBatcher
from chat.streaming.resume_log.stream_log import StreamLog
from chat.streaming.service import StreamService
from chat.usage.relay import UsageRelay
from event_bus import EventPublisher, start_consumers
from jwt_contract.remote import auth_client, jwks_verifier
from revocation_feed import RevocationFeed, snapshot_from_auth
from service_client import ServiceClient, ServiceTokens
from service_kit import Degradable, run_service
from service_kit import create_app as create_service_app
from service_kit.logs import configure_logging


def create_app(
    settings: ChatSettings | None = None,
    *,
    auth_transport: httpx.AsyncBaseTransport | None = None,
    openai_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; the transports let tests reach in-process services."""
    settings = settings or ChatSettings()
    catalog = ModelCatalog(settings.models, settings.default_model_id)
    auth = auth_client(settings, transport=auth_transport)
    verifier = jwks_verifier(settings, auth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo: AsyncMongoClient[repository.Document] = AsyncMongoClient(
            settings.mongo_url,
            tz_aware=True,
            serverSelectionTimeoutMS=settings.mongo_server_selection_timeout_ms,
            connectTimeoutMS=settings.mongo_connect_timeout_ms,
            socketTimeoutMS=settings.mongo_socket_timeout_ms,
        )
        db = mongo[settings.mongo_database]
        await repository.create_indexes(db)
        await idempotency_repository.create_indexes(db)
        cache = redis_client(settings)
        tokens = ServiceTokens(
            settings.auth_url, settings.service_client_id, settings.service_client_secret
        )
        accounting = AccountingClient(
            ServiceClient(settings.accounting_url, "accounting", tokens, max_connections=200)
        )
        auth_calls = ServiceClient(settings.auth_url, "auth", tokens, max_connections=4)
        revocations = RevocationFeed(
            verifier.revocations,
            settings.rabbitmq_url,
            snapshot_from_auth(auth_calls),
            exchange=settings.bus_exchange,
        )
        bedrock = BedrockProvider.of_platform(settings)
        await bedrock.open()  # botocore's service model loaded before the first answer
        openai = OpenAICompatibleProvider(settings, transport=openai_transport)
        anthropic = AnthropicProvider(settings)
        publisher = EventPublisher(settings.rabbitmq_url, settings.bus_exchange)
        observers = ObserverHub(cache)
        batcher = LogBatcher(
            settings.redis_url,
            interval=settings.redis_batch_seconds,
            resume_window=settings.resume_window_seconds,
            max_lifetime=settings.stream_max_seconds,
        )
        replica_id = str(uuid.uuid4())
        relay = UsageRelay(db, publisher, claimant=replica_id)
        heartbeat = ReplicaHeartbeat(
            cache,
            replica_id,
            ttl=settings.replica_ttl_seconds,
            every=settings.replica_refresh_seconds,
        )
        deps = Dependencies(
            db=db,
            hub=FanOut(),
            observers=observers,
            log=StreamLog(cache),
            batcher=batcher,
            accounting=accounting,
            grace_seconds=settings.disconnect_grace_seconds,
            hold_extend_seconds=settings.hold_extend_seconds,
            answer_store_seconds=settings.answer_store_seconds,
            max_seconds=settings.stream_max_seconds,
            key_tokens=KeyTokenLimiter(cache),
            replica_id=replica_id,
        )
        plan_client, plans = plan_lookup(settings, tokens)
        limiter = RequestLimiter(
            cache,
            settings.requests_per_minute,
            session_creates_per_minute=settings.session_creates_per_minute,
            plans=plans,
        )
        model_health = model_health_monitor(settings, catalog, cache, openai_transport)
        byok = byok_routing(settings, tokens, bedrock)
        streams = StreamService(
            deps,
            Providers({"bedrock": bedrock, "openai": openai, "anthropic": anthropic}),
            accounting,
            limiter,
            settings,
            model_health,
            byok=byok,
        )
        app.state.catalog = catalog
        app.state.model_health = model_health
        app.state.streams = streams
        app.state.heartbeat = heartbeat
        app.state.limiter = limiter
        app.state.plans = plans
        app.state.sessions = SessionsService(db, catalog, accounting, limiter, settings)
        app.state.observers = observers
        app.state.idempotency_keys = KeyStore(db)
        app.state.usage_relay = relay
        app.state.readiness_checks.update(
            mongodb=lambda: repository.ping(db),
            redis=cache.ping,
            rabbitmq=Degradable(_connected(publisher)),  # the usage relay waits
        )
        await heartbeat.beat()  # alive before its first answer names it
        heartbeat.start()
        batcher.start()
        recovery = Recovery(deps, cache, interval=settings.recovery_interval_seconds)
        app.state.recovery = recovery
        recovery.start()
        observers.start()
        relay.start()
        model_health.start()
        listening = asyncio.create_task(start_consumers([revocations]), name="revocations")
        try:
            yield
        finally:
            await model_health.stop()
            await recovery.stop()
            await streams.shutdown()
            # Still alive while its answers end; an answer left running is ended elsewhere.
            await heartbeat.stop(forget=not streams.producers)
            await batcher.stop()
            await observers.stop()
            await relay.stop()
            listening.cancel()
            await revocations.stop()
            await auth_calls.aclose()
            await publisher.close()
            await accounting.aclose()
            if plan_client is not None:
                await plan_client.aclose()
            if byok is not None:
                await byok.aclose()
            await tokens.aclose()
            await openai.aclose()
            await anthropic.aclose()
            await bedrock.aclose()
            await auth.aclose()
            await cache.aclose()
            await mongo.close()
            chat_workers.forget_worker(os.getpid())  # its live gauges (with WORKERS > 1)

    app = create_service_app(
        settings,
        title="Chat service",
        description="Chat sessions stored in MongoDB; answers streamed over Server-Sent Events "
        "from AWS Bedrock, Anthropic or any OpenAI-compatible server (the model simulator in "
        "development); "
        "supervisors observe live streams; every answer is reserved, metered and billed "
        "through the accounting service.",
        routers=[
            sessions_router.router,
            streaming_router.router,
            observation_router.router,
            catalog_router.router,
            model_health_router.router,
            openai_router.router,
        ],
        lifespan=lifespan,
    )
    app.state.token_verifier = verifier
    return app


def plan_lookup(
    settings: ChatSettings, tokens: ServiceTokens
) -> tuple[PlanClient | None, PlanLookup | None]:
    """Users' plans from provisioning, cached; none when PROVISIONING_URL is not set."""
    if not settings.provisioning_url:
        return None, None
    # A short timeout: a plan lookup is on the way of a request, and a failed one falls back
    # to the last known plan.
    client = PlanClient(
        ServiceClient(
            settings.provisioning_url,
            "provisioning",
            tokens,
            timeout_seconds=2,
            max_connections=20,
        )
    )
    lookup = PlanLookup(
        client,
        fresh_seconds=settings.plan_cache_seconds,
        stale_seconds=settings.plan_stale_seconds,
    )
    return client, lookup


def byok_routing(
    settings: ChatSettings, tokens: ServiceTokens, bedrock: BedrockProvider
) -> ByokRouting | None:
    """Callers' own provider credentials from provisioning (byok:read), cached; none when
    PROVISIONING_URL is not set (every answer then uses the platform's credentials)."""
    if not settings.provisioning_url:
        return None
    client = ByokClient(
        ServiceClient(
            settings.provisioning_url,
            "provisioning",
            tokens,
            timeout_seconds=2,
            max_connections=20,
        )
    )
    return ByokRouting(
        client,
        settings,
        bedrock_session=bedrock.session,
        cache_seconds=settings.byok_cache_seconds,
    )


def model_health_monitor(
    settings: ChatSettings,
    catalog: ModelCatalog,
    cache: redis.Redis,
    openai_transport: httpx.AsyncBaseTransport | None = None,
) -> ModelHealthMonitor:
    """The probe of every model, its result shared in Redis by every replica alike."""
    timeout = settings.model_probe_timeout_seconds
    interval = settings.model_probe_interval_seconds
    store = HealthStore(
        cache,
        scope_of(settings),
        keep_seconds=max(60.0, 3 * interval),
        claim_seconds=2 * timeout + 1,
    )
    probes: dict[str, ProviderProbe] = {
        "bedrock": BedrockProbe(settings, timeout=timeout),
        "openai": OpenAIProbe(settings, timeout=timeout, transport=openai_transport),
        "anthropic": AnthropicProbe(settings, timeout=timeout),
    }
    return ModelHealthMonitor(store, catalog, probes, settings)


def redis_client(settings: ChatSettings, **options: Any) -> redis.Redis:
    """Chat's Redis client (``options`` add connection settings, such as a client name)."""
    # A pool that waits for a free connection instead of failing when every one is busy:
    # hundreds of streams write to Redis at once.
    return redis.Redis(
        connection_pool=redis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout=5,
            socket_connect_timeout=settings.redis_connect_timeout_seconds,
            socket_timeout=settings.redis_socket_timeout_seconds,
            # A pooled connection Redis dropped (a restart) fails once, then the command is
            # sent again on a fresh one; the observers' pub/sub reconnects and resubscribes
            # with the same policy.
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=1),
            **options,
        )
    )


def _connected(publisher: EventPublisher) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        await publisher.connect()
        if not await publisher.ping():
            raise ConnectionError("RabbitMQ does not answer")

    return check


def run() -> None:
    try:
        workers = ChatSettings().workers
    except ValidationError:
        workers = 1  # run_service says what is wrong, and exits
    if workers == 1:
        run_service(ChatSettings, create_app)
    else:
        chat_workers.serve(ChatSettings(), "chat.main:worker_app")


def worker_app() -> FastAPI:
    """The app of one of WORKERS processes (uvicorn calls it in each)."""
    settings = ChatSettings()
    configure_logging(settings.service_name, settings.log_level)
    chat_workers.forget_dead_workers()
    return create_app(settings)
