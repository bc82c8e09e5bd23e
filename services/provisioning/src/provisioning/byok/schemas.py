"""BYOK bodies: what a caller stores (per provider), and what is ever shown of it."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from provisioning.byok.catalog import ProviderId
from provisioning.schemas import CamelModel
from service_kit import Text

Secret = Annotated[Text, Field(min_length=8, max_length=2000)]


class ApiKeyCredentials(CamelModel):
    api_key: Secret


class AwsCredentials(CamelModel):
    access_key_id: Annotated[Text, Field(min_length=8, max_length=128)]
    secret_access_key: Secret
    session_token: Annotated[Text, Field(min_length=1, max_length=4000)] | None = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")] = "us-east-1"


class _KeyCreate(CamelModel):
    label: Text = Field(min_length=1, max_length=100, examples=["my OpenAI key"])
    team_id: UUID | None = Field(
        None, description="Store it for this team (its organization's owners and admins)"
    )


class ApiKeyCreate(_KeyCreate):
    provider: Literal["openai", "anthropic"]
    credentials: ApiKeyCredentials


class CompatibleKeyCreate(_KeyCreate):
    provider: Literal["openai-compatible"]
    credentials: ApiKeyCredentials
    base_url: Text = Field(
        min_length=1,
        max_length=2000,
        description="The server's root (`GET {baseUrl}/v1/models` must answer): https (http "
        "only outside production), and in production no private, loopback or link-local "
        "address",
        examples=["https://llm.example.com"],
    )


class BedrockKeyCreate(_KeyCreate):
    provider: Literal["bedrock"]
    credentials: AwsCredentials


KeyCreate = Annotated[
    ApiKeyCreate | CompatibleKeyCreate | BedrockKeyCreate, Field(discriminator="provider")
]


class KeyOut(CamelModel):
    """A stored credential as anyone ever sees it: never the secret, only its last 4
    characters (an API key's, or the AWS access key id's)."""

    id: UUID
    provider: ProviderId
    label: str
    last4: str
    team_id: UUID | None
    base_url: str | None
    created_by: str
    created_at: datetime


class KeyList(CamelModel):
    keys: list[KeyOut]


class Validation(CamelModel):
    valid: bool = Field(description="Whether the provider accepted the credential")
    message: str
    provider_status: int | None = Field(
        description="The provider's HTTP status (null: it could not be reached)"
    )
    checked_at: datetime


class ResolvedCredential(CamelModel):
    """A decrypted credential, for chat's call to the provider (``/internal`` only)."""

    id: UUID
    provider: ProviderId
    base_url: str | None = Field(
        description="Where to call it: the server's root (no /v1); null: AWS's own endpoint"
    )
    api_key: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    region: str | None = None


class CredentialLookup(CamelModel):
    credential: ResolvedCredential | None = Field(
        description="The newest matching credential; null: none (use the platform's own)"
    )
