"""An OpenAI-compatible BYOK credential's ``baseUrl``, checked again before each answer with
the rule provisioning stored it under (``public_endpoints``: in production https only, and no
host resolving to a private, loopback or link-local address): its name may have been
re-pointed since (DNS rebinding). A refused one fails the answer with 422
``byok_endpoint_refused`` before anything is reserved or sent."""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from chat.byok.client import ByokCredential
from public_endpoints import EndpointRefused, Resolver, checked_endpoint, resolve
from service_kit import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointCheck:
    production: bool
    resolver: Resolver = resolve

    async def __call__(self, credential: ByokCredential) -> None:
        """Nothing for a credential that names no URL of its own; 422 otherwise when the URL
        may not be called now."""
        if credential.provider != "openai-compatible" or not credential.base_url:
            return
        try:
            await checked_endpoint(
                credential.base_url, production=self.production, resolver=self.resolver
            )
        except EndpointRefused as refused:
            log.warning(
                "byok endpoint refused",
                extra={
                    "credentialId": credential.id,
                    "host": _host(credential.base_url),
                    "reason": refused.reason,
                },
            )
            raise ApiError(
                422,
                "byok_endpoint_refused",
                f"The baseUrl of your BYOK credential {refused.reason}; update or delete the "
                "credential (/api/byok/keys)",
                details={"credentialId": credential.id},
            ) from None


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
