"""Model simulator settings, each read from the environment variable of the same name."""

from pydantic import Field

from service_kit import ServiceSettings

DEFAULT_MODELS = [
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-text-express-v1",
    "gpt-4o-mini",
    "claude-3-5-haiku-20241022",
]


class SimulatorSettings(ServiceSettings):
    service_name: str = "model-simulator"
    port: int = 3005

    first_token_delay_ms: int = Field(50, ge=0, le=600_000)
    tokens_per_second: float = Field(50, ge=0, description="0 sends every token at once")
    answer_tokens: int = Field(60, ge=1, le=100_000, description="Answer length before limits")
    max_stall_seconds: float = Field(
        60, gt=0, le=3600, description="A stalled answer drops its connection after this long"
    )
    models: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MODELS),
        description="Ids listed by GET /v1/models (JSON list); requests accept any model id",
    )
    api_keys: str = Field(
        "sk-simulator,test",
        description="Comma-separated API keys accepted (OpenAI-compatible bearer, Anthropic "
        "x-api-key) besides any key starting with sk-sim-",
    )
    access_key_ids: str = Field(
        "simulator,test,bench",
        description="Comma-separated AWS access key ids accepted (SigV4) besides any id "
        "starting with AKIASIM",
    )
