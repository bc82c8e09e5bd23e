"""The probe's loop and this replica's view of its result.

Each second (or each ``MODEL_PROBE_INTERVAL_SECONDS`` when that is shorter) the loop reads the
shared result from Redis; when it is older than the interval and this replica claims the next
probe, it probes and writes the new result. Requests read only the replica's view: a status
costs no round trip. While Redis cannot be reached each replica probes on its own schedule and
keeps its result in memory.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import redis.asyncio as redis
from pydantic_core import to_jsonable_python

from background_loops import BackgroundLoop
from chat import metrics
from chat.catalog.catalog import ModelCatalog
from chat.config import ChatSettings, ModelConfig
from chat.model_health.status import (
    HealthSnapshot,
    ModelCheck,
    ProbeError,
    ProviderCheck,
    Status,
    Timed,
    judge,
)
from chat.model_health.store import HealthStore
from service_kit import ApiError

log = logging.getLogger(__name__)

T = TypeVar("T")

_STATUS_VALUES: dict[Status, int] = {"unavailable": 0, "degraded": 1, "available": 2}
# A check older than this many intervals is not trusted to refuse a request (fail open: the
# probe has stopped, so it no longer knows).
_TRUSTED_INTERVALS = 3


class ProviderProbe(Protocol):
    provider: str

    async def list_models(self) -> list[str]: ...

    async def call(self, model: ModelConfig) -> None: ...

    async def aclose(self) -> None: ...


class ModelHealthMonitor:
    def __init__(
        self,
        store: HealthStore,
        catalog: ModelCatalog,
        probes: Mapping[str, ProviderProbe],
        settings: ChatSettings,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._probes = probes
        self.interval = settings.model_probe_interval_seconds
        self._timeout = settings.model_probe_timeout_seconds
        self._degraded_ms = settings.model_degraded_latency_ms
        self._view: HealthSnapshot | None = None
        self._probing: asyncio.Task[HealthSnapshot] | None = None
        self._redis_down = False
        self._loop = BackgroundLoop("model-health", self._refresh, interval=min(1.0, self.interval))

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        if self._probing is not None:
            self._probing.cancel()
            await asyncio.gather(self._probing, return_exceptions=True)
        for probe in self._probes.values():
            await probe.aclose()

    @property
    def view(self) -> HealthSnapshot | None:
        return self._view

    def check_of(self, model_id: str) -> ModelCheck | None:
        return self._view.models.get(model_id) if self._view else None

    def status_of(self, model_id: str) -> Status:
        """The model's last status; available until a probe has said otherwise."""
        check = self.check_of(model_id)
        return check.status if check else "available"

    def require_available(self, model: ModelConfig) -> None:
        """503 ``model_unavailable`` when a recent probe found the model unavailable."""
        check = self.check_of(model.id)
        if check is None or check.status != "unavailable":
            return
        age = (datetime.now(UTC) - check.checked_at).total_seconds()
        if age > _TRUSTED_INTERVALS * self.interval + self._timeout:
            return
        raise ApiError(
            503,
            "model_unavailable",
            f"{model.display_name} is unavailable right now ({check.reason}); try again "
            "later or choose another model",
            details={
                "modelId": model.id,
                "lastCheckedAt": to_jsonable_python(check.checked_at),
                "reason": check.reason,
            },
            headers={"Retry-After": str(max(1, math.ceil(self.interval - age)))},
        )

    async def sync(self) -> HealthSnapshot:
        """Read the providers' lists and probe every model now; every replica sees the result
        within about a second."""
        snapshot = await self._probe_once()
        await self._store.write(snapshot)
        return snapshot

    async def _refresh(self) -> None:
        try:
            shared = await self._store.read()
            self._redis_down = False
            if shared is not None:
                self._adopt(shared)
            if self._is_fresh(shared) or not await self._store.claim():
                return
        except (redis.RedisError, OSError) as exc:
            if not self._redis_down:
                log.warning(
                    "model health: Redis unreachable; probing on this replica alone",
                    extra={"error": repr(exc)},
                )
            self._redis_down = True
            if not self._is_fresh(self._view):
                await self._probe_once()  # this replica's own view until Redis is back
            return
        try:
            await self._store.write(await self._probe_once())
        finally:
            await self._store.release()

    def _is_fresh(self, snapshot: HealthSnapshot | None) -> bool:
        if snapshot is None:
            return False
        return (datetime.now(UTC) - snapshot.checked_at).total_seconds() < self.interval

    def _adopt(self, snapshot: HealthSnapshot) -> None:
        if self._view is not None and self._view.checked_at >= snapshot.checked_at:
            return
        self._view = snapshot
        for check in snapshot.models.values():
            metrics.MODEL_STATUS.labels(model=check.model_id).set(_STATUS_VALUES[check.status])

    async def _probe_once(self) -> HealthSnapshot:
        """One probe at a time on this replica: a caller arriving meanwhile shares it."""
        if self._probing is None or self._probing.done():
            self._probing = asyncio.create_task(self._probe(), name="model-health-probe")
        snapshot = await asyncio.shield(self._probing)
        self._adopt(snapshot)
        return snapshot

    async def _probe(self) -> HealthSnapshot:
        models = self._catalog.all()
        probes = {m.provider: self._probes[m.provider] for m in models}
        lists = asyncio.gather(*(self._timed(p.list_models()) for p in probes.values()))
        calls = asyncio.gather(*(self._timed(self._probes[m.provider].call(m)) for m in models))
        listings, answers = await asyncio.gather(lists, calls)
        checked_at = datetime.now(UTC)
        providers = {
            name: ProviderCheck(
                provider=name,
                checked_at=checked_at,
                latency_ms=timed.latency_ms,
                model_ids=listed,
                error=timed.error.reason if timed.error else None,
            )
            for name, (timed, listed) in zip(probes, listings, strict=True)
        }
        checks = {}
        for model, (call, _) in zip(models, answers, strict=True):
            named = providers[model.provider].model_ids
            checks[model.id] = judge(
                model.id,
                model.provider,
                call,
                None if named is None else (model.provider_model or model.id) in named,
                degraded_latency_ms=self._degraded_ms,
                checked_at=checked_at,
            )
        return HealthSnapshot(checked_at=checked_at, models=checks, providers=providers)

    async def _timed(self, call: Awaitable[T]) -> tuple[Timed, T | None]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                result = await call
        except ProbeError as exc:
            return Timed(_ms_since(started), exc), None
        except TimeoutError:
            error = ProbeError(f"no answer within {self._timeout:g} s")
            return Timed(_ms_since(started), error), None
        except Exception as exc:  # a probe never ends the loop; the model is in doubt
            log.exception("model health: a probe call failed unexpectedly")
            error = ProbeError(f"the probe failed: {type(exc).__name__}")
            return Timed(_ms_since(started), error), None
        return Timed(_ms_since(started)), result


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
