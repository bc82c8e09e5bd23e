"""Gateway settings, each read from the environment variable of the same name."""

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import NoDecode

from jwt_contract.remote import TokenSettings
from service_client import ServiceCredentialsSettings
from service_kit import ServiceSettings

# CONTRACT.md "Gateway routes": path prefix -> upstream service.
DEFAULT_ROUTES: dict[str, str] = {
    "/api/auth": "auth",
    "/api/credits": "accounting",
    "/api/usage": "accounting",
    "/api/streaming-sessions": "accounting",
    "/api/chat": "chat",
    "/api/models": "chat",
    "/v1": "chat",
    "/api/organizations": "provisioning",
    "/api/teams": "provisioning",
    "/api/model-groups": "provisioning",
    "/api/plans": "provisioning",
    "/api/audit-logs": "provisioning",
    "/api/invitations": "provisioning",
    "/api/byok": "provisioning",
}

# Browser front ends on the developer's machine (Vite's default port, and the gateway itself).
DEVELOPMENT_CORS_ORIGINS = [
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:8080",
    "http://127.0.0.1:8080",
]

_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


def _string_list(value: Any) -> Any:
    """A list from a JSON list or a comma-separated string ("" is the empty list)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


class GatewaySettings(ServiceCredentialsSettings, TokenSettings, ServiceSettings):
    service_name: str = "gateway"
    port: int = 8080

    redis_url: str = Field("redis://127.0.0.1:6379/0", description="The edge rate limit's counters")

    # The upstream services. ROUTES names them; each name's URL is <NAME>_URL.
    auth_url: str = Field(
        "http://127.0.0.1:3000",
        description="The auth service: routed to, asked for its JWKS and to exchange API keys",
    )
    accounting_url: str = "http://127.0.0.1:3001"
    chat_url: str = "http://127.0.0.1:3002"
    provisioning_url: str = "http://127.0.0.1:3004"
    routes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ROUTES),
        description='JSON {"/path/prefix": "upstream"}; upstream is auth, accounting, chat '
        "or provisioning. A prefix matches itself and everything below it "
        "(/api/chat matches /api/chat and /api/chat/..., not /api/chatty).",
    )
    optional_upstreams: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Upstreams whose absence does not make the gateway unready (comma-separated "
        "or JSON list; none by default). Their routes still answer 502/503 while they are down.",
    )

    # Upstream HTTP: one connection pool per upstream.
    upstream_connect_timeout_seconds: float = Field(3.0, gt=0)
    upstream_read_timeout_seconds: float = Field(
        120.0,
        gt=0,
        description="Longest wait for the response headers or for the next piece of a body; "
        "must exceed chat's SSE heartbeat (15 s)",
    )
    upstream_write_timeout_seconds: float = Field(30.0, gt=0)
    upstream_pool_timeout_seconds: float = Field(5.0, gt=0)
    upstream_max_connections: int = Field(
        1000, ge=1, description="Per upstream; every open SSE stream holds one"
    )
    readiness_timeout_seconds: float = Field(
        2.0, gt=0, description="How long /api/health/ready waits for each upstream"
    )

    cors_origins: Annotated[list[str] | None, NoDecode] = Field(
        None,
        description="Origins browsers may call from (comma-separated or JSON list). Unset: "
        "none in production, a few localhost origins otherwise.",
    )

    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Addresses or CIDRs of the proxies in front of the gateway (comma-separated "
        "or JSON list; none by default). Only from these is X-Forwarded-For believed (its "
        "right-most address that is not one of them is the client) and X-Forwarded-Proto, "
        "X-Forwarded-Host and X-Real-IP passed on; from anyone else they are dropped.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1,
        description="Largest request body forwarded (Content-Length or streamed); larger is "
        "413 payload_too_large",
    )
    edge_requests_per_minute: int = Field(
        600,
        ge=0,
        description="Per verified caller (user id, API key id), else per client address; "
        "0 turns it off",
    )

    console_dist_dir: Path | None = Field(
        None,
        description="The web console's build (services/console/dist), served at / with index.html "
        "for client routes; read once at startup. Unset: no console (any path outside the routes "
        "is 404).",
    )

    api_key_prefix: str = "sk-"
    api_key_exchange_path: str = "/internal/api-keys/exchange"
    key_cache_seconds: float = Field(
        30.0, ge=0, description="Longest an exchanged JWT is reused for its API key"
    )
    key_exchange_timeout_seconds: float = Field(5.0, gt=0)
    key_refusal_cache_seconds: float = Field(
        30.0, ge=0, description="How long an API key auth refused is refused again without asking"
    )
    api_key_failures_per_minute: int = Field(
        20,
        ge=0,
        description="Failed API key exchanges per client address a minute; past it 429 without "
        "asking auth; 0 turns it off",
    )

    @field_validator("optional_upstreams", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return _string_list(value)

    @field_validator("routes")
    @classmethod
    def _check_prefixes(cls, routes: dict[str, str]) -> dict[str, str]:
        for prefix in routes:
            if not _PREFIX.match(prefix):
                raise ValueError(
                    f"route prefix {prefix!r} must look like /api/name (no trailing slash)"
                )
        return routes

    @model_validator(mode="after")
    def _check_upstreams(self) -> "GatewaySettings":
        known = {"auth", "accounting", "chat", "provisioning"}
        unknown = (set(self.routes.values()) | set(self.optional_upstreams)) - known
        if unknown:
            raise ValueError(
                f"unknown upstream(s) {sorted(unknown)}: ROUTES and OPTIONAL_UPSTREAMS "
                f"name {sorted(known)}"
            )
        return self

    @property
    def upstream_urls(self) -> dict[str, str]:
        """The upstreams some route leads to, by name, in the order of first use."""
        return {name: getattr(self, f"{name}_url") for name in dict.fromkeys(self.routes.values())}

    @property
    def allowed_origins(self) -> list[str]:
        if self.cors_origins is not None:
            return self.cors_origins
        return [] if self.is_production else list(DEVELOPMENT_CORS_ORIGINS)
