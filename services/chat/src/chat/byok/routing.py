"""Which provider serves a caller's answer: the platform's, or one built with the caller's (or
its team's) BYOK credential for the model's provider.

Lookups are cached in memory per caller and provider for ``BYOK_CACHE_SECONDS`` (30), absence
included: a credential stored or deleted in provisioning is used, or stops being used, within
that long. A provider is built once per credential (its boto3 client or HTTP pool) and kept for
the most recently used ``MAX_PROVIDERS``; one dropped is closed only after
``STREAM_MAX_SECONDS``, so no answer still streaming through it breaks.
"""

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3

from chat.byok.client import ByokClient, ByokCredential
from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ModelProvider
from chat.providers.bedrock import BedrockProvider, runtime_config
from chat.providers.openai_compatible import OpenAICompatibleProvider
from jwt_contract import Principal

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

log = logging.getLogger(__name__)

# The BYOK providers whose credential serves a model of each of chat's provider kinds.
CREDENTIALS_FOR: dict[str, tuple[str, ...]] = {
    "bedrock": ("bedrock",),
    "openai": ("openai", "openai-compatible"),
}
MAX_PROVIDERS = 256
MAX_CACHED_LOOKUPS = 10_000


class ByokRouting:
    def __init__(
        self,
        client: ByokClient,
        settings: ChatSettings,
        *,
        bedrock_threads: ThreadPoolExecutor,
        cache_seconds: float,
    ) -> None:
        self._client = client
        self._settings = settings
        self._threads = bedrock_threads
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
        the caller has none (the platform's own provider serves it)."""
        credential = await self.credential_for(principal, model)
        return None if credential is None else self._provider(credential)

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
            client: BedrockRuntimeClient = boto3.client(
                "bedrock-runtime",
                endpoint_url=credential.base_url or None,
                region_name=credential.region or self._settings.aws_region,
                aws_access_key_id=credential.access_key_id,
                aws_secret_access_key=credential.secret_access_key,
                aws_session_token=credential.session_token,
                config=runtime_config(self._settings.bedrock_max_streams),
            )
            return BedrockProvider(self._settings, client=client, threads=self._threads)
        own = self._settings.model_copy(
            update={
                "openai_base_url": f"{(credential.base_url or '').rstrip('/')}/v1",
                "openai_api_key": credential.api_key or "",
            }
        )
        return OpenAICompatibleProvider(own)

    def _close_later(self, provider: ModelProvider) -> None:
        async def close() -> None:
            await asyncio.sleep(self._settings.stream_max_seconds)
            await _close(provider)

        task = asyncio.get_running_loop().create_task(close(), name="byok-provider-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _close(provider: ModelProvider) -> None:
    if isinstance(provider, OpenAICompatibleProvider):
        await provider.aclose()
    elif isinstance(provider, BedrockProvider):
        provider.close()


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
