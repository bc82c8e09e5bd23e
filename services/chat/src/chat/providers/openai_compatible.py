"""Any server speaking OpenAI's chat completions API, streamed over SSE with httpx."""

import json
import logging
from collections.abc import AsyncIterator

import httpx

from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ProviderError, Turn, Usage

log = logging.getLogger(__name__)


class OpenAICompatibleProvider:
    def __init__(
        self, settings: ChatSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ):
        self._client = httpx.AsyncClient(
            base_url=settings.openai_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {settings.openai_api_key}"},
            timeout=httpx.Timeout(connect=5, read=120, write=30, pool=30),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=200),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        system_messages = [{"role": "system", "content": system}] if system else []
        body = {
            "model": model.provider_model or model.id,
            "messages": system_messages + [{"role": t.role, "content": t.text} for t in turns],
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        finish_reason = None
        try:
            async with self._client.stream("POST", "chat/completions", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _status_error(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    for choice in chunk.get("choices") or []:
                        if text := (choice.get("delta") or {}).get("content"):
                            yield text
                        finish_reason = choice.get("finish_reason") or finish_reason
                    if usage := chunk.get("usage"):
                        yield Usage(
                            usage["prompt_tokens"], usage["completion_tokens"], finish_reason
                        )
            raise ProviderError("The model's stream ended early", code="provider_error")
        except httpx.HTTPError as exc:
            log.warning("openai-compatible backend unreachable", extra={"error": repr(exc)})
            raise ProviderError("The model is unreachable", code="provider_unavailable") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("openai-compatible backend sent garbage", extra={"error": repr(exc)})
            raise ProviderError("The model sent an invalid answer") from exc


def _status_error(response: httpx.Response) -> ProviderError:
    log.warning(
        "openai-compatible backend refused",
        extra={"status": response.status_code, "body": response.text[:300]},
    )
    if response.status_code == 429:
        return ProviderError("The model is busy; try again shortly", code="provider_throttled")
    return ProviderError("The model failed to answer", code="provider_error")
