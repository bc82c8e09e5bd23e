"""How long an invitation stays open, read from the environment like every other setting.

It lives with its domain rather than in ``ProvisioningSettings`` so that invitations need no
change elsewhere; ``INVITATION_TTL_DAYS`` is the variable either way."""

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InvitationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    invitation_ttl_days: int = Field(
        7, ge=1, le=90, description="Days an invitation can be accepted before it expires"
    )

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=self.invitation_ttl_days)


@cache
def invitation_settings() -> InvitationSettings:
    return InvitationSettings()
