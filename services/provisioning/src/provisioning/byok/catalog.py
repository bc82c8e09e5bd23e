"""The providers a credential may be for, and the fields each one takes (``GET
/api/byok/providers``): what a client shows in a form, and what the schemas check."""

from typing import Literal

from pydantic import Field

from provisioning.schemas import CamelModel

ProviderId = Literal["openai", "anthropic", "bedrock", "openai-compatible"]


class CredentialField(CamelModel):
    name: str = Field(description="The key of `credentials` in `POST /api/byok/keys`")
    label: str
    secret: bool = Field(description="Encrypted at rest and never returned")
    required: bool


class ProviderOut(CamelModel):
    id: ProviderId
    name: str
    fields: list[CredentialField]
    base_url: Literal["required", "not_allowed"] = Field(
        description="Whether `baseUrl` is given (an OpenAI-compatible server's) or refused"
    )


_API_KEY = CredentialField(name="apiKey", label="API key", secret=True, required=True)

PROVIDERS: list[ProviderOut] = [
    ProviderOut(id="openai", name="OpenAI", fields=[_API_KEY], base_url="not_allowed"),
    ProviderOut(id="anthropic", name="Anthropic", fields=[_API_KEY], base_url="not_allowed"),
    ProviderOut(
        id="bedrock",
        name="AWS Bedrock",
        fields=[
            CredentialField(name="accessKeyId", label="Access key id", secret=True, required=True),
            CredentialField(
                name="secretAccessKey", label="Secret access key", secret=True, required=True
            ),
            CredentialField(
                name="sessionToken", label="Session token", secret=True, required=False
            ),
            CredentialField(name="region", label="Region", secret=False, required=False),
        ],
        base_url="not_allowed",
    ),
    ProviderOut(
        id="openai-compatible",
        name="OpenAI-compatible server",
        fields=[_API_KEY],
        base_url="required",
    ),
]
