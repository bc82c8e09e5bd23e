"""What an answer is measured at: the provider's token counts when it reports them, else the
pieces streamed and an estimate of the prompt; and what its credit hold must cover."""

import math

from chat.providers.base import Turn, Usage

# Room for the roles and formatting a provider adds around the prompt.
PROMPT_OVERHEAD_TOKENS = 16


def estimate_tokens(text: str) -> int:
    """A rough count where the provider reports none (an answer cut short): ~4 characters a
    token. Used for input tokens only; output tokens are counted piece by piece."""
    return max(1, math.ceil(len(text) / 4))


def prompt_text(turns: list[Turn], system: str | None) -> str:
    return (system or "") + "".join(turn.text for turn in turns)


def hold_tokens(turns: list[Turn], system: str | None, max_tokens: int) -> int:
    """The tokens a hold must cover: the prompt, overestimated (characters / 3 is more than
    most text's tokens), and the longest answer allowed."""
    prompt_chars = sum(len(turn.text) for turn in turns) + len(system or "")
    return math.ceil(prompt_chars / 3) + PROMPT_OVERHEAD_TOKENS + max_tokens


def measured_tokens(usage: Usage | None, pieces: int, prompt: str) -> tuple[int, int]:
    """Input and output tokens so far: the provider's figures, or when it reported none (cut
    short) the pieces received (each is at least one token) and an estimate of the prompt, but
    nothing when the model never answered."""
    if usage is not None:
        return usage.input_tokens, usage.output_tokens
    return (estimate_tokens(prompt) if pieces else 0), pieces
