"""Chat's call to provisioning for a caller's BYOK credential (scope ``byok:read``), through
the platform's one service client. The credential lives only in memory, never in a log."""

import logging
from dataclasses import dataclass, field

from pydantic import ValidationError

from chat.schemas import CamelModel
from service_client import ServiceClient, peer_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ByokCredential:
    id: str
    provider: str  # openai, anthropic, bedrock or openai-compatible
    base_url: str | None  # the provider's root (no /v1); None: AWS's own Bedrock endpoint
    api_key: str | None = field(default=None, repr=False)
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None


class _Resolved(CamelModel):
    id: str
    provider: str
    base_url: str | None
    api_key: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    region: str | None = None


class _Lookup(CamelModel):
    credential: _Resolved | None


class ByokClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def credential(
        self, user_id: str, team_id: str | None, providers: tuple[str, ...]
    ) -> ByokCredential | None:
        """The newest credential of the team (or the user) for one of ``providers``; None:
        none, or a provisioning that does not serve BYOK (404). 503
        ``provisioning_unavailable`` when provisioning cannot say."""
        query: list[tuple[str, str]] = [("userId", user_id)]
        if team_id is not None:
            query.append(("teamId", team_id))
        query.extend(("provider", provider) for provider in providers)
        reply = await self._client.request("GET", "/internal/byok/credentials", params=query)
        if reply.status == 404:  # a provisioning without BYOK (the route answers 200 or 403)
            return None
        if reply.status != 200:
            log.error("provisioning refused a BYOK lookup", extra={"status": reply.status})
            raise peer_unavailable("provisioning")
        try:
            found = _Lookup.model_validate_json(reply.body).credential
        except ValidationError:
            log.error("provisioning's BYOK credential is malformed")  # never the body
            raise peer_unavailable("provisioning") from None
        if found is None:
            return None
        return ByokCredential(**found.model_dump())
