"""Anthropic's side of the probe, through the ``anthropic`` SDK: ``GET /v1/models`` (every
page) and a one-token message, with the probe's timeout and no retries."""

import anthropic

from chat.config import ChatSettings, ModelConfig
from chat.model_health.status import ProbeError

# 429 rate_limit_error is throttling (degraded); 529 overloaded_error answers nothing, so it
# counts as unavailable, as another provider's 503.
_THROTTLED = 429


class AnthropicProbe:
    provider = "anthropic"

    def __init__(self, settings: ChatSettings, *, timeout: float) -> None:
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url.rstrip("/"),
            max_retries=0,
            timeout=timeout,
        )

    async def list_models(self) -> list[str]:
        try:
            return [model.id async for model in self._client.models.list(limit=1000)]
        except anthropic.APIError as exc:
            raise _probe_error(exc) from exc

    async def call(self, model: ModelConfig) -> None:
        try:
            await self._client.messages.create(
                model=model.provider_model or model.id,
                max_tokens=1,
                messages=[{"role": "user", "content": "ping"}],
            )
        except anthropic.APIError as exc:
            raise _probe_error(exc) from exc

    async def aclose(self) -> None:
        await self._client.close()


def _probe_error(exc: anthropic.APIError) -> ProbeError:
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == _THROTTLED:
            return ProbeError(f"the server throttled it (HTTP {status})", throttled=True)
        return ProbeError(f"the server refused it (HTTP {status})")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProbeError(f"the server did not answer: {type(exc).__name__}")
    return ProbeError("the model list is not Anthropic's format")
