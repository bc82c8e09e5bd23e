"""Settings that fail fast: a production service never starts with a development secret."""

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

_DEV_SECRET_MARK = "dev_secret"


def dev_secret(default: Any, *, description: str = "") -> Any:
    """A field whose default is a development-only secret, refused when ENVIRONMENT=production."""
    return Field(
        default,
        description=f"{description} (development default; must be set in production)".strip(),
        json_schema_extra={_DEV_SECRET_MARK: True},
    )


class ServiceSettings(BaseSettings):
    """Settings every service has. Each value comes from the environment variable of its name."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "service"
    # No default: a service that is not told where it runs refuses to start (fail closed),
    # rather than running with development secrets somewhere that is not development.
    environment: Environment = Field(
        description="development | test | production (required: no default)"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_body_bytes: int = Field(
        1_048_576,
        ge=1,
        description="Largest request body accepted (Content-Length or streamed); larger is "
        "413 payload_too_large",
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> "ServiceSettings":
        if not self.is_production:
            return self
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get(_DEV_SECRET_MARK):
                value = getattr(self, name)
                if value == info.default or not str(value).strip():
                    raise ValueError(
                        f"{name.upper()} is empty or still its development default; "
                        f"set {name.upper()} to a real secret when ENVIRONMENT=production"
                    )
        return self
