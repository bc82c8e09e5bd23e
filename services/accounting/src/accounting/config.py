"""Accounting settings, each read from the environment variable of the same name."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from accounting.pricing.prices import Price, PriceTable
from event_bus import QueueType
from jwt_contract.remote import TokenSettings
from pg_migrations import PostgresPoolSettings
from service_client import ServiceCredentialsSettings
from service_kit import ServiceSettings, dev_secret

NonNegativeCredits = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=6)]


class ModelPrice(BaseModel):
    input: NonNegativeCredits = Field(description="Credits per 1K input tokens")
    output: NonNegativeCredits = Field(description="Credits per 1K output tokens")


# Credits per 1K tokens. One credit is meant to be about a tenth of a US cent.
DEFAULT_MODEL_PRICES = {
    "anthropic.claude-3-sonnet-20240229-v1:0": ModelPrice(input=Decimal(3), output=Decimal(15)),
    "anthropic.claude-3-haiku-20240307-v1:0": ModelPrice(
        input=Decimal("0.25"), output=Decimal("1.25")
    ),
    "amazon.titan-text-express-v1": ModelPrice(input=Decimal("0.2"), output=Decimal("0.6")),
    # Chat's model served by Anthropic's own API (provider anthropic).
    "claude-3-5-haiku-20241022": ModelPrice(input=Decimal("0.8"), output=Decimal(4)),
}


class AccountingSettings(
    PostgresPoolSettings, ServiceCredentialsSettings, TokenSettings, ServiceSettings
):
    service_name: str = "accounting"
    port: int = 3001

    database_url: str = "postgresql://postgres@127.0.0.1:5432/accounting"
    rabbitmq_url: str = dev_secret("amqp://guest:guest@127.0.0.1:5672/")
    bus_exchange: str = "platform.events"
    rabbitmq_queue_type: QueueType = Field(
        "classic",
        description="classic | quorum: the type of the durable queues its consumers declare "
        "(quorum on a replicated RabbitMQ cluster; an existing queue keeps its type)",
    )
    user_registered_queue: str = "accounting.user-registered"
    usage_recorded_queue: str = "accounting.usage-recorded"
    provisioning_url: str = Field(
        "http://127.0.0.1:3004",
        description="The provisioning service: an organization's teams and members' roles, "
        "for usage exports by organization",
    )

    starting_grant_credits: Annotated[Decimal, Field(ge=0, le=1_000_000)] = Decimal(0)
    reservation_margin_percent: int = Field(10, ge=0, le=500)
    reservation_ttl_seconds: int = Field(300, ge=5, le=86_400)
    hold_sweep_interval_seconds: float = Field(5.0, gt=0)
    outbox_poll_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the outbox relay looks for events nobody woke it for (a "
        "replica that stopped before publishing what it stored); events stored here wake it",
    )
    low_credits_threshold: Annotated[Decimal, Field(ge=0)] = Decimal(10)

    export_max_days: int = Field(
        366, ge=1, le=3660, description="The longest range one usage export covers"
    )
    export_batch_rows: int = Field(
        500, ge=1, le=100_000, description="Rows a usage export reads and writes at a time"
    )
    export_max_concurrent: int = Field(
        4,
        ge=1,
        le=100,
        description="Usage exports streaming at once per replica (each holds a connection); "
        "past it, 429 too_many_exports",
    )
    export_idle_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="A usage export whose client stops reading for this long is ended",
    )

    model_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_MODEL_PRICES),
        description='JSON: {"model-id": {"input": credits per 1K, "output": credits per 1K}}',
    )
    default_model_price: ModelPrice = ModelPrice(input=Decimal(1), output=Decimal(2))
    byok_fee_per_1k_tokens: NonNegativeCredits = Field(
        Decimal(0),
        description="Credits per 1K tokens (input and output alike) of an answer chat got with "
        "the caller's own provider credential (BYOK), instead of the model's price",
    )

    def price_table(self) -> PriceTable:
        return PriceTable(
            {model: Price.of(p.input, p.output) for model, p in self.model_prices.items()},
            Price.of(self.default_model_price.input, self.default_model_price.output),
            Price.of(self.byok_fee_per_1k_tokens, self.byok_fee_per_1k_tokens),
        )
