"""OpenAI chat completions, as much of the API as clients of a chat product use.

Types are strict (``false`` is not a token count, ``"0.5"`` is not a temperature): a request
OpenAI would refuse is refused here too, 422 in the platform's error envelope. Fields other
clients send and this service does not use are accepted and ignored; the sampling knobs are
type-checked all the same. How many messages and how much text a request may carry is in the
settings (MAX_COMPLETION_MESSAGES, MAX_CONVERSATION_CHARS), checked by the router: 413.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Most parts one message's content may have, and most stop sequences (OpenAI's own limit).
MAX_CONTENT_PARTS = 64
MAX_STOP_SEQUENCES = 4


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str = Field(max_length=64)
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | Annotated[list[ContentPart], Field(max_length=MAX_CONTENT_PARTS)] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True)
    include_usage: bool = False


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(
        min_length=1, description="At most MAX_COMPLETION_MESSAGES (413 beyond)"
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(None, ge=1, le=1_000_000)
    # Accepted and ignored, but only with the types and ranges OpenAI accepts.
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is generated")
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    seed: int | None = None
    stop: str | Annotated[list[str], Field(max_length=MAX_STOP_SEQUENCES)] | None = None
    user: str | None = Field(None, max_length=256)

    def text_chars(self) -> int:
        """Characters of text the messages carry together."""
        return sum(len(message.text()) for message in self.messages)


def completion(
    completion_id: str, created: int, model: str, text: str, finish: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": usage,
    }


def chunk(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish: str | None = None,
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk(
    completion_id: str, created: int, model: str, usage: dict[str, int]
) -> dict[str, Any]:
    """The last chunk of a stream asked with ``include_usage``: no choices, the usage."""
    return {**chunk(completion_id, created, model, {}), "choices": [], "usage": usage}


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelObjectList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


def usage_of(data: dict[str, Any]) -> dict[str, int]:
    return {
        "prompt_tokens": data["inputTokens"],
        "completion_tokens": data["outputTokens"],
        "total_tokens": data["inputTokens"] + data["outputTokens"],
    }
