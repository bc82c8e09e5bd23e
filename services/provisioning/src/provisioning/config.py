"""Provisioning settings, each read from the environment variable of the same name."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from event_bus import QueueType
from jwt_contract.remote import TokenSettings
from pg_migrations import PostgresPoolSettings
from provisioning.byok.config import ByokSettings
from service_client import ServiceCredentialsSettings
from service_kit import ServiceSettings, dev_secret


class ProvisioningSettings(
    ByokSettings, PostgresPoolSettings, ServiceCredentialsSettings, TokenSettings, ServiceSettings
):
    service_name: str = "provisioning"
    port: int = 3004

    database_url: str = "postgresql://postgres@127.0.0.1:5432/provisioning"
    rabbitmq_url: str = dev_secret("amqp://guest:guest@127.0.0.1:5672/")
    bus_exchange: str = "platform.events"
    rabbitmq_queue_type: QueueType = Field(
        "classic",
        description="classic | quorum: the type of the durable queues its consumers declare "
        "(quorum on a replicated RabbitMQ cluster; an existing queue keeps its type)",
    )
    user_registered_queue: str = "provisioning.user-registered"
    audit_recorded_queue: str = "provisioning.audit-recorded"

    accounting_url: str = "http://127.0.0.1:3001"
    chat_url: str = Field(
        "http://127.0.0.1:3002", description="The chat service, whose catalog model groups name"
    )
    upstream_timeout_seconds: float = Field(10.0, gt=0, le=120)

    default_plan_name: str = Field(
        "free", min_length=1, max_length=100, description="Created at start-up when no plan is"
    )
    default_plan_monthly_credits: Annotated[Decimal, Field(ge=0, le=1_000_000)] = Decimal(100)
    default_plan_requests_per_minute: int = Field(30, ge=1, le=100_000)

    grant_poll_seconds: float = Field(
        2.0, gt=0, description="How often pending plan grants are retried"
    )
    grant_renewal_interval_seconds: float = Field(
        3600.0, gt=0, description="How often users missing this month's plan grant are found"
    )
