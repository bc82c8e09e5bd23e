"""BYOK settings, mixed into ``ProvisioningSettings`` (each read from the variable of its name)."""

from pydantic import BaseModel, Field, model_validator

from sealed_secrets import master_keys
from service_kit import dev_secret

# base64 of b"dev-only-byok-key:public-NOT-SAF": public, so refused in production.
DEV_BYOK_ENCRYPTION_KEY = "ZGV2LW9ubHktYnlvay1rZXk6cHVibGljLU5PVC1TQUY="


class ByokSettings(BaseModel):
    byok_encryption_key: str = dev_secret(
        DEV_BYOK_ENCRYPTION_KEY,
        description="base64 of 32 random bytes: the AES-256-GCM master key BYOK credentials "
        "are encrypted under (make one with `openssl rand -base64 32`)",
    )
    byok_previous_encryption_keys: str = Field(
        "",
        description="Comma-separated older master keys (base64), still read for credentials "
        "encrypted under them until `provisioning-byok-rekey` has re-encrypted those under "
        "BYOK_ENCRYPTION_KEY",
    )
    # Where `validate` (and chat, told by /internal/byok/credentials) calls each provider. Every
    # one points at the model simulator by default, as chat's do; production sets real ones.
    byok_openai_base_url: str = Field(
        "http://127.0.0.1:3005", description="OpenAI's API (https://api.openai.com), without /v1"
    )
    byok_anthropic_base_url: str = Field(
        "http://127.0.0.1:3005",
        description="Anthropic's API (https://api.anthropic.com), without /v1",
    )
    byok_bedrock_endpoint_url: str | None = Field(
        "http://127.0.0.1:3005",
        description="Bedrock's control plane for ListFoundationModels; empty: the real AWS "
        "endpoint of the credential's region",
    )
    byok_validate_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long `validate` waits for the provider"
    )
    max_byok_keys: int = Field(
        20, ge=1, le=1000, description="Stored credentials per user (own) and per team"
    )

    @property
    def byok_keys(self) -> tuple[bytes, list[bytes]]:
        """The current master key and the older ones, decoded (checked at start-up)."""
        return master_keys(
            self.byok_encryption_key,
            self.byok_previous_encryption_keys,
            current_variable="BYOK_ENCRYPTION_KEY",
            previous_variable="BYOK_PREVIOUS_ENCRYPTION_KEYS",
        )

    @model_validator(mode="after")
    def _byok_keys_are_valid(self) -> "ByokSettings":
        _ = self.byok_keys  # decoding raises a ValueError that names the wrong variable
        return self
