"""The Bedrock Converse API's request and response bodies (camelCase on the wire)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ContentBlock(Wire):
    """One block of a message; only ``text`` is read, other kinds (image, toolUse...) are kept."""

    model_config = ConfigDict(extra="allow")
    text: str | None = None


class Message(Wire):
    role: Literal["user", "assistant"]
    content: list[ContentBlock]


class SystemContentBlock(Wire):
    model_config = ConfigDict(extra="allow")
    text: str | None = None


class InferenceConfiguration(Wire):
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=1, description="Accepted and ignored")
    top_p: float | None = Field(None, ge=0, le=1, description="Accepted and ignored")
    stop_sequences: list[str] = Field(default_factory=list, max_length=2500)


class ConverseRequest(Wire):
    messages: list[Message] = Field(min_length=1)
    system: list[SystemContentBlock] = Field(default_factory=list)
    inference_config: InferenceConfiguration = Field(default_factory=InferenceConfiguration)


class TextBlock(Wire):
    text: str


class OutputMessage(Wire):
    role: Literal["assistant"] = "assistant"
    content: list[TextBlock]


class ConverseOutput(Wire):
    message: OutputMessage


class TokenUsage(Wire):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class ConverseMetrics(Wire):
    latency_ms: int


StopReason = Literal["end_turn", "max_tokens", "stop_sequence"]


class ConverseResponse(Wire):
    output: ConverseOutput
    stop_reason: StopReason
    usage: TokenUsage
    metrics: ConverseMetrics
