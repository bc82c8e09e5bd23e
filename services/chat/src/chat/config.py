"""Chat settings, each read from the environment variable of the same name."""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from jwt_contract import ROLES, Role
from jwt_contract.remote import TokenSettings
from service_client import ServiceCredentialsSettings
from service_kit import ServiceSettings, dev_secret

Provider = Literal["bedrock", "openai", "anthropic"]
Tier = Literal["economy", "standard", "premium"]
Strength = Literal["reasoning", "coding", "writing", "summarization", "chat", "speed"]


class ModelConfig(BaseModel):
    id: str
    provider: Provider
    display_name: str
    roles: list[Role] = Field(default_factory=lambda: list(ROLES))
    tier: Tier = "standard"
    strengths: list[Strength] = Field(default_factory=list)
    # The provider's own name for the model, when it differs from the id clients use.
    provider_model: str | None = None


DEFAULT_MODELS = [
    ModelConfig(
        id="anthropic.claude-3-sonnet-20240229-v1:0",
        provider="bedrock",
        display_name="Claude 3 Sonnet",
        tier="premium",
        strengths=["reasoning", "coding", "writing"],
    ),
    ModelConfig(
        id="anthropic.claude-3-haiku-20240307-v1:0",
        provider="bedrock",
        display_name="Claude 3 Haiku",
        tier="standard",
        strengths=["chat", "speed", "summarization"],
    ),
    ModelConfig(
        id="amazon.titan-text-express-v1",
        provider="bedrock",
        display_name="Amazon Titan Text Express",
        tier="economy",
        strengths=["summarization", "speed"],
    ),
    ModelConfig(
        id="gpt-4o-mini",
        provider="openai",
        display_name="GPT-4o mini (OpenAI-compatible)",
        roles=["supervisor", "admin"],
        tier="standard",
        strengths=["chat", "coding"],
    ),
    ModelConfig(
        id="claude-3-5-haiku-20241022",
        provider="anthropic",
        display_name="Claude 3.5 Haiku (Anthropic API)",
        tier="standard",
        strengths=["chat", "speed", "coding"],
    ),
]


class ChatSettings(ServiceCredentialsSettings, TokenSettings, ServiceSettings):
    service_name: str = "chat"
    port: int = 3002
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes serving PORT, each a replica of its own (its own event "
        "loop, caches and replica id) sharing nothing but Redis, MongoDB and the metrics "
        "directory; about one per core",
    )
    metrics_dir: str | None = Field(
        None,
        description="With WORKERS > 1: the directory the workers share their metrics in (a "
        "Kubernetes emptyDir, say), emptied at start; unset: a new temporary directory. Any "
        "worker's /metrics answers for all of them",
    )

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "chat"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_max_connections: int = Field(200, ge=10)
    rabbitmq_url: str = dev_secret("amqp://guest:guest@127.0.0.1:5672/")
    bus_exchange: str = "platform.events"

    accounting_url: str = "http://127.0.0.1:3001"
    hold_extend_seconds: float = Field(
        30,
        gt=0,
        description="How often a streaming answer extends its credit hold at accounting and "
        "reports its progress (keep well under accounting's RESERVATION_TTL_SECONDS)",
    )

    # Every provider points at the model simulator by default; production sets real endpoints.
    bedrock_endpoint_url: str | None = Field(
        "http://127.0.0.1:3005", description="None (empty) means the real AWS endpoint"
    )
    aws_region: str = "us-east-1"
    aws_access_key_id: str = dev_secret("simulator")
    aws_secret_access_key: str = dev_secret("simulator-secret")
    bedrock_control_endpoint_url: str | None = Field(
        None,
        description="Bedrock's control plane (ListFoundationModels: model sync and the health "
        "probe); unset: BEDROCK_ENDPOINT_URL's, empty: the real AWS endpoint",
    )
    openai_base_url: str = "http://127.0.0.1:3005/v1"
    openai_api_key: str = dev_secret("sk-simulator")
    anthropic_base_url: str = Field(
        "http://127.0.0.1:3005",
        description="Anthropic's Messages API root, without /v1 (https://api.anthropic.com)",
    )
    anthropic_api_key: str = dev_secret(
        "sk-sim-anthropic-platform",
        description="The platform's Anthropic API key, for answers of the catalog's anthropic "
        "models asked without a BYOK credential",
    )

    model_probe_interval_seconds: float = Field(
        30,
        gt=0,
        le=3600,
        description="How often each model's health is probed (a one-token call, and each "
        "provider's model list); one replica probes, all read the result from Redis",
    )
    model_probe_timeout_seconds: float = Field(
        5,
        gt=0,
        le=60,
        description="A probe call not answered within this long marks its model unavailable",
    )
    model_degraded_latency_ms: int = Field(
        3000,
        ge=1,
        description="A model answering the probe slower than this (or throttling it) is degraded",
    )

    models: list[ModelConfig] = Field(default_factory=lambda: list(DEFAULT_MODELS))
    default_model_id: str = "anthropic.claude-3-haiku-20240307-v1:0"

    requests_per_minute: int = Field(
        30,
        ge=1,
        description="Chat writes one user may make a minute (one fixed window per minute): "
        "creating and deleting a session, a message, a new stream (resuming one is free), "
        "update-stream and /v1/chat/completions; past it 429 rate_limited with Retry-After",
    )
    provisioning_url: str | None = Field(
        None,
        description="Where chat asks a user's plan (GET /internal/users/{userId}/plan); unset "
        "or empty: plans and BYOK keys are not applied (everyone gets REQUESTS_PER_MINUTE and "
        "every model of their role); required in production",
    )
    plan_cache_seconds: float = Field(
        10,
        gt=0,
        le=3600,
        description="How long a user's plan is used before provisioning is asked again: a plan "
        "change applies to a user within this long",
    )
    plan_stale_seconds: float = Field(
        3600,
        ge=0,
        description="How long past PLAN_CACHE_SECONDS the last known plan still applies while "
        "provisioning cannot be reached; after it (or with none known) listing or choosing a "
        "model is 503 provisioning_unavailable",
    )
    byok_cache_seconds: float = Field(
        30,
        gt=0,
        le=3600,
        description="How long a caller's BYOK credential (or its absence) is used before "
        "provisioning is asked again (with PROVISIONING_URL): a credential stored or deleted "
        "is used, or stops being used, within this long",
    )
    session_creates_per_minute: int = Field(
        8,
        ge=1,
        description="Sessions one user may create a minute, on top of REQUESTS_PER_MINUTE (a "
        "creation counts against both). Under 10, so a burst of 20 creations always ends in "
        "429 even when it straddles two windows",
    )
    max_message_chars: int = Field(
        32_000, ge=1, description="Longest user message, in characters (longer: 413)"
    )
    max_completion_messages: int = Field(
        256,
        ge=1,
        description="Most messages one /v1/chat/completions request may carry (more: 413)",
    )
    max_conversation_chars: int = Field(
        256_000,
        ge=1,
        description="Most characters of text all the messages of one /v1/chat/completions "
        "request may carry together, system prompt included (more: 413); the last message is "
        "also held to MAX_MESSAGE_CHARS",
    )
    max_output_tokens: int = Field(1024, ge=1, description="Most tokens one answer may use")
    history_messages: int = Field(20, ge=0, description="Earlier messages sent as context")
    heartbeat_seconds: float = Field(15, gt=0)
    stream_max_seconds: float = Field(600, gt=0)
    # 0: a supervisor on another replica lags the user by one Redis round trip (issue 4 target:
    # p99 <= 5 ms); what producers add in one turn of the loop shares a write whatever this is.
    redis_batch_seconds: float = Field(
        0,
        ge=0,
        le=1,
        description="Least time between two writes of the streams' new events to Redis (resume "
        "log, observers on other replicas), all streams in one write; the streaming user and "
        "this replica's observers get each event at once",
    )
    resume_window_seconds: int = Field(300, ge=1, description="How long a stream can be resumed")
    disconnect_grace_seconds: float = Field(
        5, ge=0, description="How long an answer goes on with nobody connected, for a reconnect"
    )
    observe_max_seconds: float = Field(3600, gt=0)

    # Replicas that die mid-answer: each refreshes its key; the others end its lost answers.
    replica_ttl_seconds: float = Field(
        5,
        gt=0,
        le=60,
        description="How long a replica's key in Redis outlives its last refresh: a replica "
        "killed outright is taken for dead about this long after, and its answers are ended "
        "(stored, billed for what was streamed, error answer_lost) by another replica",
    )
    replica_refresh_seconds: float = Field(
        1, gt=0, description="How often a replica refreshes its key (under REPLICA_TTL_SECONDS)"
    )
    recovery_interval_seconds: float = Field(
        2,
        gt=0,
        description="How often each replica looks for answers whose replica died; a replica "
        "is dead once its key is missing on two looks in a row, so this must exceed "
        "REPLICA_REFRESH_SECONDS",
    )

    @model_validator(mode="after")
    def _plans_apply_in_production(self) -> "ChatSettings":
        # Without provisioning no plan limit, plan model list or BYOK key would apply: in
        # production that must be a refusal to start, not a silent free-for-all.
        if self.is_production and not (self.provisioning_url or "").strip():
            raise ValueError(
                "PROVISIONING_URL is not set; chat needs it in production to apply plans and "
                "BYOK keys"
            )
        return self

    @model_validator(mode="after")
    def _replica_timing(self) -> "ChatSettings":
        if self.replica_refresh_seconds >= self.replica_ttl_seconds:
            raise ValueError("REPLICA_REFRESH_SECONDS must be under REPLICA_TTL_SECONDS")
        if self.recovery_interval_seconds <= self.replica_refresh_seconds:
            raise ValueError("RECOVERY_INTERVAL_SECONDS must exceed REPLICA_REFRESH_SECONDS")
        return self

    # Outages of MongoDB and Redis: fail fast (503), come back by themselves.
    mongo_server_selection_timeout_ms: int = Field(
        1000,
        ge=100,
        description="How long a MongoDB operation waits for a reachable server before failing "
        "(routes answer 503 database_unavailable after about this long)",
    )
    mongo_connect_timeout_ms: int = Field(2000, ge=100, description="MongoDB TCP connect timeout")
    mongo_socket_timeout_ms: int = Field(
        10_000, ge=100, description="Longest wait for a MongoDB answer on an open connection"
    )
    answer_store_seconds: float = Field(
        5,
        gt=0,
        le=30,
        description="How long an ended answer keeps trying to be stored in MongoDB; past it the "
        "stream ends with error answer_not_stored and the hold is released uncharged",
    )
    redis_socket_timeout_seconds: float = Field(
        8,
        gt=1,
        description="Longest wait for a Redis answer, a blocking read's 5 s included (a dead "
        "connection fails after it)",
    )
    redis_connect_timeout_seconds: float = Field(3, gt=0, description="Redis TCP connect timeout")
