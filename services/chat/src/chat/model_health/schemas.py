"""The bodies of /api/models/health and /api/models/sync."""

from datetime import datetime

from pydantic import Field

from chat.config import ModelConfig
from chat.model_health.status import HealthSnapshot, ModelCheck, Status
from chat.schemas import CamelModel


class ModelHealthOut(CamelModel):
    id: str
    name: str
    provider: str
    status: Status = Field(description="available until a probe has checked the model")
    last_checked_at: datetime | None = Field(description="None: not probed yet")
    latency_ms: int | None = Field(description="How long the probe's one-token call took")
    listed: bool | None = Field(
        description="Whether the provider's model list names it (None: not read)"
    )
    reason: str | None = Field(description="Why it is degraded or unavailable")


class ModelHealthList(CamelModel):
    models: list[ModelHealthOut]
    checked_at: datetime | None = Field(description="When the last probe ended")
    probe_interval_seconds: float


class ProviderListing(CamelModel):
    provider: str
    reachable: bool = Field(description="Whether its model list could be read")
    models: list[str] = Field(description="The ids its model list names")
    not_in_catalog: list[str] = Field(description="Listed by the provider, not in MODELS")
    latency_ms: int
    error: str | None


class SyncResult(CamelModel):
    synced_at: datetime
    providers: list[ProviderListing]
    models: list[ModelHealthOut]


def health_out(model: ModelConfig, check: ModelCheck | None) -> ModelHealthOut:
    return ModelHealthOut(
        id=model.id,
        name=model.display_name,
        provider=model.provider,
        status=check.status if check else "available",
        last_checked_at=check.checked_at if check else None,
        latency_ms=check.latency_ms if check else None,
        listed=check.listed if check else None,
        reason=check.reason if check else None,
    )


def sync_result(snapshot: HealthSnapshot, catalog: list[ModelConfig]) -> SyncResult:
    known = {m.provider_model or m.id for m in catalog}
    return SyncResult(
        synced_at=snapshot.checked_at,
        providers=[
            ProviderListing(
                provider=p.provider,
                reachable=p.model_ids is not None,
                models=p.model_ids or [],
                not_in_catalog=[m for m in p.model_ids or [] if m not in known],
                latency_ms=p.latency_ms,
                error=p.error,
            )
            for p in snapshot.providers.values()
        ],
        models=[health_out(m, snapshot.models.get(m.id)) for m in catalog],
    )
