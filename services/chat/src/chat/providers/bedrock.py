"""AWS Bedrock's ConverseStream through aiobotocore: botocore's own signing, retries and
event-stream parsing, on the event loop. No thread per answer and no cap but the CPU: each
answer holds one HTTP connection of its provider's pool while it streams.

A provider owns one aiobotocore client (its aiohttp connection pool), an async context
entered by ``open`` (or the first answer) and left by ``aclose``: at once when no answer is
streaming through it, else when the last one ends, so dropping a provider never breaks an
answer. An answer ended early (the client went away: the task reading it is cancelled)
closes its HTTP response at once, which ends the model's stream upstream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from chat import metrics
from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ProviderError, Turn, Usage

if TYPE_CHECKING:  # the stubs are a development dependency
    from types_aiobotocore_bedrock_runtime import BedrockRuntimeClient
    from types_aiobotocore_bedrock_runtime.type_defs import ConverseStreamRequestTypeDef

log = logging.getLogger(__name__)

_THROTTLED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"}

# Every streaming answer holds one connection: aiohttp's 0 is no limit (CPU runs out first).
# The request is built here from typed turns (ConverseStreamRequestTypeDef, checked by mypy):
# botocore's own check of it again on every call is ~30 us of CPU an answer spared.
_CONFIG = AioConfig(
    retries={"max_attempts": 2, "mode": "standard"},
    parameter_validation=False,
    max_pool_connections=0,
    connect_timeout=5,
    read_timeout=120,
)


@dataclass(frozen=True)
class AwsAccess:
    """Where and as whom a client calls Bedrock (the secrets never show in a repr)."""

    endpoint_url: str | None
    region: str
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def of_platform(cls, settings: ChatSettings) -> AwsAccess:
        return cls(
            endpoint_url=settings.bedrock_endpoint_url or None,
            region=settings.aws_region,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=settings.aws_secret_access_key,
        )


class BedrockProvider:
    """``session``, when given, is shared with other providers: botocore's service model is
    then loaded (from disk, blocking) once for all of them."""

    def __init__(self, access: AwsAccess, *, session: AioSession | None = None) -> None:
        self.session = session or AioSession()
        self._access = access
        self._lock = asyncio.Lock()
        self._context: AsyncExitStack | None = None
        self._client: BedrockRuntimeClient | None = None
        self._streaming = 0
        self._closing = False

    @classmethod
    def of_platform(cls, settings: ChatSettings) -> BedrockProvider:
        return cls(AwsAccess.of_platform(settings))

    @property
    def is_open(self) -> bool:
        """Whether its client (and connection pool) is open."""
        return self._client is not None

    @property
    def streaming(self) -> int:
        """Answers streaming through it now."""
        return self._streaming

    async def open(self) -> BedrockRuntimeClient:
        """Its client, entered on the first call (again after ``aclose``, until its answers
        end)."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                access = self._access
                context = AsyncExitStack()
                self._client = await context.enter_async_context(
                    self.session.create_client(
                        "bedrock-runtime",
                        endpoint_url=access.endpoint_url,
                        region_name=access.region,
                        aws_access_key_id=access.access_key_id,
                        aws_secret_access_key=access.secret_access_key,
                        aws_session_token=access.session_token,
                        config=_CONFIG,
                    )
                )
                self._context = context
            return self._client

    async def aclose(self) -> None:
        """Close its client now when no answer is streaming through it, else once the last
        one ends."""
        self._closing = True
        await self._close_if_idle()

    async def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        request: ConverseStreamRequestTypeDef = {
            "modelId": model.provider_model or model.id,
            "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
        if system:
            request["system"] = [{"text": system}]
        self._streaming += 1
        metrics.BEDROCK_STREAMS.inc()
        events = None
        try:
            try:
                client = await self.open()
                events = (await client.converse_stream(**request))["stream"]
                stop_reason = None
                async for event in events:
                    if delta := event.get("contentBlockDelta"):
                        if text := delta["delta"].get("text"):
                            yield text
                    elif stop := event.get("messageStop"):
                        stop_reason = stop.get("stopReason")
                    elif metadata := event.get("metadata"):
                        usage = metadata["usage"]
                        yield Usage(usage["inputTokens"], usage["outputTokens"], stop_reason)
            except Exception as exc:  # a failure of the call (never one thrown in at a yield)
                raise _provider_error(exc) from exc
        finally:
            # Ended early (cancelled), failed or done: the response is closed, not returned to
            # the pool half read, so the model stops streaming this answer.
            if events is not None:
                events.close()
            metrics.BEDROCK_STREAMS.dec()
            self._streaming -= 1
            if self._closing:
                await self._close_if_idle()

    async def _close_if_idle(self) -> None:
        async with self._lock:
            if self._streaming or self._context is None:
                return
            context, self._context, self._client = self._context, None, None
            await context.aclose()


def _provider_error(exc: Exception) -> ProviderError:
    # EventStreamError (an error event mid-stream) is a ClientError.
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        log.warning("bedrock error", extra={"errorCode": code, "error": str(exc)})
        if code in _THROTTLED:
            return ProviderError("The model is busy; try again shortly", code="provider_throttled")
        return ProviderError("The model failed to answer", code="provider_error")
    if isinstance(exc, BotoCoreError):
        log.warning("bedrock unreachable", extra={"error": repr(exc)})
        return ProviderError("The model is unreachable", code="provider_unavailable")
    if isinstance(exc, aiohttp.ClientError):  # the stream broke or stalled past read_timeout
        log.warning("bedrock stream broke", extra={"error": repr(exc)})
        return ProviderError("The model failed to answer", code="provider_error")
    log.error("unexpected bedrock failure", exc_info=exc)
    return ProviderError("The model failed to answer", code="provider_error")
