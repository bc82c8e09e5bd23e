"""A service's own client id and secret, for the client-credentials grant at auth."""

from typing import Any

from pydantic import BaseModel, Field, model_validator


def dev_client_secret(client_id: str) -> str:
    """The public development secret of a service; auth knows the same one and both refuse it
    when ENVIRONMENT=production."""
    return f"dev-{client_id}-client-secret"


class ServiceCredentialsSettings(BaseModel):
    """Mix into the settings of a service that calls another (SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET, AUTH_URL)."""

    service_client_id: str = Field(
        "", description="This service's client id at auth (default: the service's name)"
    )
    service_client_secret: str = Field(
        "",
        description="This service's client secret at auth (a development default outside "
        "production; must be set in production)",
    )

    @model_validator(mode="after")
    def _credentials_or_refuse(self) -> Any:
        if not self.service_client_id:
            self.service_client_id = str(getattr(self, "service_name", ""))
        production = getattr(self, "environment", None) == "production"
        dev_secret = dev_client_secret(self.service_client_id)
        if production and self.service_client_secret in ("", dev_secret):
            raise ValueError(
                "SERVICE_CLIENT_SECRET is unset or its development default; "
                "set it to this service's client secret when ENVIRONMENT=production"
            )
        if not self.service_client_secret:
            self.service_client_secret = dev_secret
        return self
