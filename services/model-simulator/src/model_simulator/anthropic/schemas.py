"""The Anthropic Messages API's bodies (snake_case on the wire, as Anthropic has them)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StopReason = Literal["end_turn", "max_tokens", "stop_sequence"]


class ContentBlock(BaseModel):
    """A block of a message or of the system prompt; only ``text`` blocks are read, other
    kinds (images, tool results) are accepted."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["user", "assistant"]
    content: str | list[ContentBlock]

    @property
    def text(self) -> str:
        return _text_of(self.content)


class MessagesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1, description="Required, as Anthropic has it")
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[ContentBlock] | None = None
    stop_sequences: list[str] = Field(default_factory=list)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=1, description="Accepted and ignored")
    top_p: float | None = Field(None, ge=0, le=1, description="Accepted and ignored")
    top_k: int | None = Field(None, ge=0, description="Accepted and ignored")

    @property
    def system_text(self) -> str:
        return "" if self.system is None else _text_of(self.system)


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int


class TextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str


class Message(BaseModel):
    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[TextBlock]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: Usage


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    type: Literal["error"] = "error"
    error: ErrorDetail


def _text_of(content: str | list[ContentBlock]) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(block.text for block in content if block.text is not None)
