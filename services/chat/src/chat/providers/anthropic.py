"""Anthropic's Messages API through the official ``anthropic`` SDK (``AsyncAnthropic``),
streamed: a text piece per ``text_delta``, then the usage Anthropic measured (input tokens
from ``message_start``, output tokens from ``message_delta``).

The SDK is async, so no thread is held while a model answers; closing the iterator (a client
went away) closes the HTTP stream. One retry, as chat's Bedrock client has, for a failure
before the stream starts; none once it has begun.
"""

import logging
from collections.abc import AsyncIterator

import anthropic
import httpx2
from anthropic.types import AssistantMessageParam, MessageParam, UserMessageParam

from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ProviderError, Turn, Usage

log = logging.getLogger(__name__)

_BUSY = (429, 529)  # rate_limit_error, overloaded_error


def _timeout() -> anthropic.Timeout:
    return anthropic.Timeout(connect=5, read=120, write=30, pool=30)


class AnthropicProvider:
    """The platform's ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL unless ``api_key`` and
    ``base_url`` (a BYOK credential's) are given: a given key, even empty, is never replaced
    by the platform's."""

    def __init__(
        self, settings: ChatSettings, *, api_key: str | None = None, base_url: str | None = None
    ) -> None:
        # An explicit key: the SDK then reads no credential from the environment.
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key if api_key is None else api_key,
            base_url=(base_url or settings.anthropic_base_url).rstrip("/"),
            max_retries=1,
            timeout=_timeout(),
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        messages = [_message(turn) for turn in turns]
        input_tokens: int | None = None
        output_tokens: int | None = None
        stop_reason: str | None = None
        ended = False
        try:
            events = await self._client.messages.create(
                model=model.provider_model or model.id,
                max_tokens=max_tokens,
                messages=messages,
                stream=True,
                system=system or anthropic.omit,
            )
            async with events:
                async for event in events:
                    if event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            yield event.delta.text
                    elif event.type == "message_start":
                        input_tokens = event.message.usage.input_tokens
                    elif event.type == "message_delta":
                        output_tokens = event.usage.output_tokens  # cumulative: the final count
                        if event.usage.input_tokens is not None:
                            input_tokens = event.usage.input_tokens
                        stop_reason = event.delta.stop_reason
                    elif event.type == "message_stop":
                        ended = True
        except anthropic.APIStatusError as exc:
            raise _status_error(exc) from exc
        except (anthropic.APIConnectionError, httpx2.HTTPError) as exc:
            # A stream cut short surfaces as the HTTP client's own error, not the SDK's.
            log.warning("anthropic unreachable", extra={"error": repr(exc)})
            raise ProviderError("The model is unreachable", code="provider_unavailable") from exc
        except anthropic.APIError as exc:  # an answer the SDK could not read
            log.warning("anthropic sent an invalid answer", extra={"error": repr(exc)})
            raise ProviderError("The model sent an invalid answer") from exc
        if not ended or input_tokens is None or output_tokens is None:
            raise ProviderError("The model's stream ended early", code="provider_error")
        yield Usage(input_tokens, output_tokens, stop_reason)


def _message(turn: Turn) -> MessageParam:
    if turn.role == "user":
        return UserMessageParam(role="user", content=turn.text)
    return AssistantMessageParam(role="assistant", content=turn.text)


def _status_error(exc: anthropic.APIStatusError) -> ProviderError:
    # Never the body: it may echo the request. The SDK raises this for an error event in a
    # stream too (its status then is the stream's 200).
    log.warning(
        "anthropic refused",
        extra={"status": exc.status_code, "errorType": _error_type(exc.body)},
    )
    if exc.status_code in _BUSY:
        return ProviderError("The model is busy; try again shortly", code="provider_throttled")
    return ProviderError("The model failed to answer", code="provider_error")


def _error_type(body: object) -> str | None:
    if isinstance(body, dict) and isinstance(error := body.get("error"), dict):
        kind = error.get("type")
        return kind if isinstance(kind, str) else None
    return None
