"""What every model provider offers: a stream of text pieces, then the usage it reports."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

from chat.config import ModelConfig


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Usage:
    """Token counts as the provider reported them: the only figures billing uses."""

    input_tokens: int
    output_tokens: int
    stop_reason: str | None = None


class ProviderError(Exception):
    """The model call failed; ``code`` is what the client sees (never provider internals)."""

    def __init__(self, message: str, *, code: str = "provider_error", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ModelProvider(Protocol):
    def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        """Text pieces as they come, then one ``Usage``. Closing the iterator cancels the call."""
        ...
