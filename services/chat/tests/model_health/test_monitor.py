"""The probe's loop over fake providers and a real Redis: one replica probes, every replica
adopts its result; without Redis each probes for itself; requests for an unavailable model are
refused only on a recent check."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chat.catalog.catalog import ModelCatalog
from chat.config import DEFAULT_MODELS, ChatSettings, ModelConfig
from chat.model_health.monitor import ModelHealthMonitor
from chat.model_health.status import ProbeError
from chat.model_health.store import HealthStore
from service_kit import ApiError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


class FakeProbe:
    """A provider whose models answer after ``delay``, except those set to fail."""

    def __init__(self, provider: str, delay: float = 0.0) -> None:
        self.provider = provider
        self.delay = delay
        self.failing: set[str] = set()
        self.calls = 0

    async def list_models(self) -> list[str]:
        return [m.id for m in DEFAULT_MODELS if m.provider == self.provider]

    async def call(self, model: ModelConfig) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if model.id in self.failing:
            raise ProbeError("refused it (HTTP 503)")

    async def aclose(self) -> None:
        pass


def fresh_scope() -> str:
    return uuid.uuid4().hex


def monitor(client, scope, probes, **settings) -> ModelHealthMonitor:
    chosen = ChatSettings(
        environment="test",
        model_probe_interval_seconds=settings.pop("interval", 30),
        model_probe_timeout_seconds=settings.pop("timeout", 1),
        model_degraded_latency_ms=settings.pop("degraded_ms", 500),
    )
    store = HealthStore(client, scope, keep_seconds=60, claim_seconds=3)
    catalog = ModelCatalog(DEFAULT_MODELS, HAIKU)
    return ModelHealthMonitor(store, catalog, {p.provider: p for p in probes}, chosen)


@pytest.fixture
async def cache(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_one_replica_probes_and_the_others_adopt_its_result(cache):
    scope = fresh_scope()
    first = [FakeProbe("bedrock"), FakeProbe("openai"), FakeProbe("anthropic")]
    second = [FakeProbe("bedrock"), FakeProbe("openai"), FakeProbe("anthropic")]
    first[0].failing.add(HAIKU)
    second[0].failing.add(HAIKU)
    a, b = monitor(cache, scope, first), monitor(cache, scope, second)

    await asyncio.gather(a._refresh(), b._refresh())  # one claims the probe, one waits
    await asyncio.gather(a._refresh(), b._refresh())  # and adopts its result

    assert sum(p.calls for p in first + second) == len(DEFAULT_MODELS)  # one probe in all
    assert a.view is not None and a.view == b.view
    assert a.status_of(HAIKU) == b.status_of(HAIKU) == "unavailable"
    assert a.status_of("amazon.titan-text-express-v1") == "available"
    with pytest.raises(ApiError) as refused:
        b.require_available(next(m for m in DEFAULT_MODELS if m.id == HAIKU))
    assert (refused.value.status, refused.value.code) == (503, "model_unavailable")
    assert refused.value.details["reason"] == "refused it (HTTP 503)"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30


async def test_a_fresh_result_is_not_probed_again_and_a_stale_one_is(cache):
    scope = fresh_scope()
    probes = [FakeProbe("bedrock"), FakeProbe("openai"), FakeProbe("anthropic")]
    replica = monitor(cache, scope, probes, interval=30)
    await replica._refresh()
    await replica._refresh()
    assert sum(p.calls for p in probes) == len(DEFAULT_MODELS)

    shared = HealthStore(cache, scope, keep_seconds=60, claim_seconds=3)
    stale = await shared.read()
    stale.checked_at -= timedelta(seconds=31)
    await shared.write(stale)
    await replica._refresh()

    assert sum(p.calls for p in probes) == 2 * len(DEFAULT_MODELS)
    assert (await shared.read()).checked_at > stale.checked_at + timedelta(seconds=30)


async def test_slow_is_degraded_and_no_answer_within_the_timeout_is_unavailable(cache):
    slow_probes = [FakeProbe("bedrock", 0.3), FakeProbe("openai"), FakeProbe("anthropic")]
    slow = monitor(cache, fresh_scope(), slow_probes, degraded_ms=100)
    await slow.sync()
    assert slow.status_of(HAIKU) == "degraded"
    assert slow.check_of(HAIKU).reason.startswith("answered in ")

    stalled = monitor(
        cache,
        fresh_scope(),
        [FakeProbe("bedrock", 5), FakeProbe("openai"), FakeProbe("anthropic")],
        timeout=0.2,
    )
    await stalled.sync()
    assert stalled.status_of(HAIKU) == "unavailable"
    assert stalled.check_of(HAIKU).reason == "no answer within 0.2 s"
    assert stalled.status_of("gpt-4o-mini") == "available"


async def test_without_redis_each_replica_probes_for_itself():
    unreachable = redis.Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    probes = [FakeProbe("bedrock"), FakeProbe("openai"), FakeProbe("anthropic")]
    probes[1].failing.add("gpt-4o-mini")
    alone = monitor(unreachable, "nowhere", probes)

    await alone._refresh()
    await alone._refresh()  # the view is fresh: no second probe

    assert alone.status_of("gpt-4o-mini") == "unavailable"
    assert sum(p.calls for p in probes) == len(DEFAULT_MODELS)
    await unreachable.aclose()


async def test_an_old_unavailable_check_no_longer_refuses(cache):
    probes = [FakeProbe("bedrock"), FakeProbe("openai"), FakeProbe("anthropic")]
    probes[0].failing.add(HAIKU)
    stale = monitor(cache, fresh_scope(), probes, interval=1)
    snapshot = await stale.sync()
    model = next(m for m in DEFAULT_MODELS if m.id == HAIKU)
    with pytest.raises(ApiError):
        stale.require_available(model)

    long_ago = datetime.now(UTC) - timedelta(seconds=10)
    snapshot.models[HAIKU].checked_at = long_ago
    stale.require_available(model)  # the probe stopped: it no longer knows
    assert stale.status_of(HAIKU) == "unavailable"  # but says what it last saw


async def test_a_model_never_probed_is_available():
    never = monitor(None, "unused", [])
    assert never.status_of(HAIKU) == "available" and never.check_of(HAIKU) is None
    never.require_available(DEFAULT_MODELS[0])
