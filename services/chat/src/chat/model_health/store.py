"""The shared probe result in Redis: one JSON value per deployment, and a claim so that one
replica at a time probes.

The key is scoped by a digest of what is probed (provider endpoints and the catalog): replicas
of one deployment share it; a process pointed at other endpoints (a canary, a test's own
simulator) keeps its own.
"""

import hashlib
import json

import redis.asyncio as redis

from chat.config import ChatSettings
from chat.model_health.status import HealthSnapshot


def scope_of(settings: ChatSettings) -> str:
    probed = [
        settings.bedrock_endpoint_url,
        settings.bedrock_control_endpoint_url,
        settings.aws_region,
        settings.openai_base_url,
        sorted((m.id, m.provider, m.provider_model or "") for m in settings.models),
    ]
    return hashlib.sha256(json.dumps(probed).encode()).hexdigest()[:16]


class HealthStore:
    def __init__(
        self, client: redis.Redis, scope: str, *, keep_seconds: float, claim_seconds: float
    ) -> None:
        self._redis = client
        self._key = f"chat:model-health:{scope}"
        self._claim_key = f"{self._key}:probing"
        self._keep_ms = max(1, round(keep_seconds * 1000))
        self._claim_ms = max(1, round(claim_seconds * 1000))

    async def read(self) -> HealthSnapshot | None:
        raw = await self._redis.get(self._key)
        return None if raw is None else HealthSnapshot.model_validate_json(raw)

    async def claim(self) -> bool:
        """True for the one caller that may probe now (until its claim expires)."""
        return bool(await self._redis.set(self._claim_key, "1", nx=True, px=self._claim_ms))

    async def release(self) -> None:
        """Give the claim back once the result is written (a probe outlives it otherwise)."""
        await self._redis.delete(self._claim_key)

    async def write(self, snapshot: HealthSnapshot) -> None:
        """Keep ``snapshot`` for ``keep_seconds``: a result nobody renews is forgotten."""
        await self._redis.set(self._key, snapshot.model_dump_json(), px=self._keep_ms)
