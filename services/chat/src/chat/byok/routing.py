"""Which provider serves a caller's answer: the platform's, or one built with the caller's (or
its team's) BYOK credential for the model's provider.

Lookups are cached in memory per caller and provider for ``BYOK_CACHE_SECONDS`` (30), absence
included: a credential stored or deleted in provisioning is used, or stops being used, within
that long. A provider is built once per credential (its aiobotocore client or HTTP pool) and
kept for the most recently used ``MAX_PROVIDERS``; one dropped is closed only once no answer
streams through it any more (a Bedrock one counts its answers; the others wait
``STREAM_MAX_SECONDS``), so no answer still streaming through it breaks. Shutting down closes
the kept ones (a dropped Bedrock one is closed already, or with its last answer).
"""

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict

from aiobotocore.session import AioSession

from chat.byok.client import ByokClient, ByokCredential
from chat.byok.endpoints import EndpointCheck
from chat.config import ChatSettings, ModelConfig
from chat.providers.anthropic import AnthropicProvider
from chat.providers.base import ModelProvider
from chat.providers.bedrock import AwsAccess, BedrockProvider
from chat.providers.openai_compatible import OpenAICompatibleProvider
from jwt_contract import Principal

log = logging.getLogger(__name__)

# The BYOK providers whose credential serves a model of each of chat's provider kinds.
CREDENTIALS_FOR: dict[str, tuple[str, ...]] = {
    "bedrock": ("bedrock",),
    "openai": ("openai", "openai-compatible"),
    "anthropic": ("anthropic",),
}
MAX_PROVIDERS = 256
MAX_CACHED_LOOKUPS = 10_000


class ByokRouting:
    def __init__(
        self,
        client: ByokClient,
        settings: ChatSettings,
        *,
        bedrock_session: AioSession,
        cache_seconds: float,
        endpoint_check: EndpointCheck | None = None,
    ) -> None:
        self._client = client
        # An OpenAI-compatible credential's own baseUrl, checked again before each answer.
        self._endpoint_check = endpoint_check or EndpointCheck(settings.is_production)
        self._settings = settings
        self._bedrock_session = bedrock_session
        self._cache_seconds = cache_seconds
        self._lookups: dict[tuple[str, str | None, str], tuple[float, ByokCredential | None]] = {}
        self._providers: OrderedDict[str, ModelProvider] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        await self._client.aclose()
        for provider in self._providers.values():
            await _close(provider)
        self._providers.clear()

    async def provider_for(self, principal: Principal, model: ModelConfig) -> ModelProvider | None:
        """The provider built with the caller's credential for ``model``'s provider; None:
        the caller has none (the platform's own provider serves it). 422
        ``byok_endpoint_refused`` when its baseUrl may not be called now."""
        credential = await self.credential_for(principal, model)
        if credential is None:
            return None
        await self._endpoint_check(credential)
        return self._provider(credential)

    async def credential_for(
        self, principal: Principal, model: ModelConfig
    ) -> ByokCredential | None:
        team = principal.claims.get("teamId")
        team_id = str(team) if team else None
        cache_key = (principal.user_id, team_id, model.provider)
        now = time.monotonic()
        cached = self._lookups.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        credential = await self._client.credential(
            principal.user_id, team_id, CREDENTIALS_FOR[model.provider]
        )
        if len(self._lookups) >= MAX_CACHED_LOOKUPS:
            self._lookups = {k: v for k, v in self._lookups.items() if v[0] > now}
        self._lookups[cache_key] = (now + self._cache_seconds, credential)
        return credential

    def _provider(self, credential: ByokCredential) -> ModelProvider:
        name = _fingerprint(credential)
        provider = self._providers.get(name)
        if provider is not None:
            self._providers.move_to_end(name)
            return provider
        provider = self._build(credential)
        self._providers[name] = provider
        if len(self._providers) > MAX_PROVIDERS:
            _, dropped = self._providers.popitem(last=False)
            self._close_later(dropped)
        return provider

    def _build(self, credential: ByokCredential) -> ModelProvider:
        if credential.provider == "bedrock":
            access = AwsAccess(
                endpoint_url=credential.base_url or None,
                region=credential.region or self._settings.aws_region,
                access_key_id=credential.access_key_id,
                secret_access_key=credential.secret_access_key,
                session_token=credential.session_token,
            )
            # Its client is opened by its first answer, on the platform's session.
            return BedrockProvider(access, session=self._bedrock_session)
        if credential.provider == "anthropic":
            return AnthropicProvider(
                self._settings, api_key=credential.api_key or "", base_url=credential.base_url
            )
        own = self._settings.model_copy(
            update={
                "openai_base_url": f"{(credential.base_url or '').rstrip('/')}/v1",
                "openai_api_key": credential.api_key or "",
            }
        )
        return OpenAICompatibleProvider(own)

    def _close_later(self, provider: ModelProvider) -> None:
        async def close() -> None:
            if not isinstance(provider, BedrockProvider):  # it closes after its last answer
                await asyncio.sleep(self._settings.stream_max_seconds)
            await _close(provider)

        task = asyncio.get_running_loop().create_task(close(), name="byok-provider-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _close(provider: ModelProvider) -> None:
    if isinstance(provider, OpenAICompatibleProvider | AnthropicProvider):
        await provider.aclose()
    elif isinstance(provider, BedrockProvider):
        await provider.aclose()


def _fingerprint(credential: ByokCredential) -> str:
    """Names a provider by the credential and every secret of it (never logged)."""
    parts = (
        credential.id,
        credential.base_url or "",
        credential.api_key or "",
        credential.access_key_id or "",
        credential.secret_access_key or "",
        credential.session_token or "",
        credential.region or "",
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
